"""Slack adapter against a local server speaking Slack's wire format."""

from __future__ import annotations

import pytest

from bot.notify.channel import ChannelError
from bot.notify.message import Message
from bot.notify.slack import MAX_BLOCKS, Slack, build_blocks
from bot.config.settings import SlackChannel
from tests.fakes.http import Answer
from tests.fakes.slack import RATE_LIMITED, FakeSlack
from tests.notify.items import item, summary


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def bot_channel(fake: FakeSlack) -> Slack:
    return Slack(SlackChannel(enabled=True, bot_token="xoxb-fake", channel="#jobs", api_url=fake.api_url))


def webhook_channel(fake: FakeSlack) -> Slack:
    return Slack(SlackChannel(enabled=True, webhook_url=fake.webhook_url))


def test_post_message_sends_one_block_per_match_with_link(slack):
    receipt = bot_channel(slack).send(summary(3))

    (posted,) = slack.messages()
    assert receipt.startswith("1700000000.")
    assert posted["channel"] == "#jobs"
    assert posted["text"] == "[Vorhölle] 3 new job matches — top: 83% Cloud Architect 3"
    texts = [b["text"]["text"] for b in posted["blocks"]]
    assert texts[0] == "*3 new job matches*"
    assert "*81%* <https://gitlab.example.com/acme/jobs/-/issues/1|Cloud Architect 1>" in texts[1]
    assert "Nordlicht Consulting GmbH · Berlin" in texts[1]
    assert texts[-1].startswith("<https://gitlab.example.com/acme/jobs/-/issues?label_name[]=job-match/pending|Review")


def test_hostile_title_cannot_ping_or_fake_a_link(slack):
    hostile = item(title="<!channel> <https://evil.example.org|click> & co")
    webhook_channel(slack).send(Message(items=(hostile,)))

    (sent,) = slack.messages()
    text = sent["blocks"][1]["text"]["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example.org|click&gt; &amp; co" in text
    # The top-level text is mrkdwn too: it is what the notification banner shows.
    assert sent["text"] == "[Vorhölle] New job match: 90% &lt;!channel&gt; &lt;https://evil.example.org|click&gt; &amp; co"


def test_many_matches_stay_within_slacks_block_and_text_limits(slack):
    many = Message(items=tuple(item(n, title="x" * 5000) for n in range(120)), review_url="https://gitlab.example.com/r")
    bot_channel(slack).send(many)

    blocks = slack.messages()[0]["blocks"]
    assert len(blocks) == MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert blocks[-2]["elements"][0]["text"] == (
        f"…and {120 - (MAX_BLOCKS - 3)} more: <https://gitlab.example.com/r|see them in GitLab>"
    )
    assert len(build_blocks(summary(3))) == 5


def test_digest_with_buttons_keeps_slacks_block_limit_then_links_the_rest(slack):
    channel = Slack(SlackChannel(enabled=True, bot_token="xoxb-fake", channel="#jobs", api_url=slack.api_url,
                                 signing_secret="made-up-signing-secret"))
    many = Message(items=tuple(item(n) for n in range(1, 41)), review_url="https://gitlab.example.com/r")
    channel.send(many)

    blocks = slack.messages()[0]["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(blocks) <= MAX_BLOCKS
    assert len(actions) == (MAX_BLOCKS - 3) // 2   # a section and its buttons per match, while they fit
    assert [e["action_id"] for e in actions[0]["elements"]] == ["approve", "reject", "open"]
    assert actions[0]["block_id"] == "vorhoelle:1" and actions[0]["elements"][0]["value"] == '{"iid":1,"from":"pending"}'
    assert actions[0]["elements"][2]["url"] == "https://gitlab.example.com/acme/jobs/-/issues/1"
    assert blocks[-2]["elements"][0]["text"] == f"…and {40 - len(actions)} more: <https://gitlab.example.com/r|see them in GitLab>"


def test_no_buttons_without_the_apps_signing_secret(slack):
    bot_channel(slack).send(summary(2))
    assert not [b for b in slack.messages()[0]["blocks"] if b["type"] == "actions"]


def test_rate_limit_is_waited_out_by_the_sdk(slack):
    slack.fail_next(1, RATE_LIMITED)
    bot_channel(slack).send(summary(1))

    assert [r.status for r in slack.requests] == [429, 200]


def test_webhook_error_answers_raise_although_the_sdk_does_not(slack):
    slack.fail_next(1, Answer(404, "channel_not_found"))
    with pytest.raises(ChannelError, match="404 'channel_not_found'") as permanent:
        webhook_channel(slack).send(summary(1))
    assert permanent.value.permanent

    slack.fail_next(1, Answer(500, "rollup_error"))
    with pytest.raises(ChannelError) as temporary:
        webhook_channel(slack).send(summary(1))
    assert not temporary.value.permanent


def test_api_errors_are_told_apart(slack):
    slack.fail_next(1, Answer(200, {"ok": False, "error": "channel_not_found"}))
    with pytest.raises(ChannelError, match="channel_not_found") as permanent:
        bot_channel(slack).send(summary(1))
    assert permanent.value.permanent

    slack.fail_next(1, Answer(200, {"ok": False, "error": "internal_error"}))
    with pytest.raises(ChannelError) as temporary:
        bot_channel(slack).send(summary(1))
    assert not temporary.value.permanent


def test_unreachable_slack_is_a_temporary_failure():
    with FakeSlack() as gone:
        url = gone.webhook_url
    with pytest.raises(ChannelError, match="unreachable") as failure:
        Slack(SlackChannel(enabled=True, webhook_url=url, timeout_seconds=2)).send(summary(1))
    assert not failure.value.permanent
