"""WhatsApp through the Twilio SDK against a local server speaking Twilio's wire format."""

from __future__ import annotations

import json

import pytest

from bot import metrics
from bot.notify.channel import ChannelError
from bot.notify.whatsapp import WhatsApp, targets
from bot.config.settings import WhatsAppChannel
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, twilio_error
from bot.notify.message import Message
from tests.notify.items import item, summary
from tests.notify.conftest import FakeClock

REVIEWER, PARTNER = "+4915100000001", "+4915100000002"


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


def whatsapp_settings(fake: FakeTwilio, **overrides) -> dict:
    defaults = dict(enabled=True, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100",
                    to=[REVIEWER], content_sid="HX" + "1" * 32, api_url=fake.url)
    return {**defaults, **overrides}


def channel(fake: FakeTwilio, **overrides) -> WhatsApp:
    return WhatsApp(WhatsAppChannel(**whatsapp_settings(fake, **overrides)), REVIEWER)


def test_template_by_default_with_top_match_and_review_link(twilio):
    receipt = channel(twilio).send(summary(4))

    (sent,) = twilio.sent()
    assert receipt.startswith("SM")
    assert sent["To"] == f"whatsapp:{REVIEWER}" and sent["From"] == "whatsapp:+14155550100"
    assert "Body" not in sent and sent["ContentSid"] == "HX" + "1" * 32
    assert json.loads(sent["ContentVariables"]) == {
        "1": "4 new job matches",
        "2": "84% Cloud Architect 4",
        "3": "https://gitlab.example.com/acme/jobs/-/issues?label_name[]=job-match/pending",
    }


def test_free_text_inside_the_24_hour_window(twilio):
    twilio.open_sessions.add(f"whatsapp:{REVIEWER}")
    channel(twilio, mode="free_text").send(Message(items=(item(7, event="approved", score=97, title="Data\u202eEngineer"),)))

    body = twilio.sent()[0]["Body"]
    assert body.splitlines() == [
        "Vorhölle: 1 approved.",
        "Approved: 97% DataEngineer (Nordlicht Consulting GmbH)",
        "https://gitlab.example.com/acme/jobs/-/issues/7",
    ]


def test_free_text_outside_the_window_is_a_permanent_failure(twilio):
    with pytest.raises(ChannelError, match="63016") as failure:
        channel(twilio, mode="free_text").send(summary(1))
    assert failure.value.permanent
    assert twilio.sent() == []


def test_rate_limit_is_temporary_and_carries_retry_after(twilio):
    twilio.fail_next(1, twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "7"}))
    with pytest.raises(ChannelError) as failure:
        channel(twilio).send(summary(1))
    assert not failure.value.permanent and failure.value.retry_after == 7.0


def test_wrong_credentials_are_permanent(twilio):
    with pytest.raises(ChannelError, match="20003") as failure:
        channel(twilio, auth_token="wrong").send(summary(1))
    assert failure.value.permanent


def test_one_recipient_keeps_the_plain_channel_name_several_are_targets_of_their_own(twilio):
    assert list(targets(WhatsAppChannel(**whatsapp_settings(twilio)))) == ["whatsapp"]
    several = targets(WhatsAppChannel(**whatsapp_settings(twilio, to=[REVIEWER, PARTNER])))
    assert {name: target.to for name, target in several.items()} == {
        f"whatsapp:{REVIEWER}": REVIEWER, f"whatsapp:{PARTNER}": PARTNER}


def test_a_failure_at_one_recipient_never_repeats_the_message_to_the_others(make_bot, twilio):
    """The partner has not written to us within 24 hours, so free text to them fails until they do;
    the reviewer must get the summary exactly once, the partner once it can be delivered."""
    twilio.open_sessions.add(f"whatsapp:{REVIEWER}")
    clock = FakeClock()
    bot = make_bot(clock, channels={"whatsapp": whatsapp_settings(twilio, to=[REVIEWER, PARTNER], mode="free_text")})
    iids = bot.stage(95, 81)

    assert [m["To"] for m in twilio.sent()] == [f"whatsapp:{REVIEWER}"]
    assert all(bot.has_owed_label(iid) for iid in iids)
    assert ("staged", f"whatsapp:{REVIEWER}") in bot.notified(iids[0])
    assert ("staged", f"whatsapp:{PARTNER}") not in bot.notified(iids[0])

    twilio.open_sessions.add(f"whatsapp:{PARTNER}")
    clock.advance(minutes=2)        # past the failing target's rest
    bot.start()                     # and a restart: only GitLab remembers who got what
    bot.notifier.flush_due()

    assert [m["To"] for m in twilio.sent()] == [f"whatsapp:{REVIEWER}", f"whatsapp:{PARTNER}"]
    assert twilio.sent()[1]["Body"] == twilio.sent()[0]["Body"]
    for iid in iids:
        assert [c for e, c in bot.notified(iid) if c.startswith("whatsapp")] == [
            f"whatsapp:{REVIEWER}", f"whatsapp:{PARTNER}"]
        assert not bot.has_owed_label(iid)
    bot.notifier.flush_due()
    assert len(twilio.sent()) == 2
    # Counted by channel: a phone number is personal data, and one series per number grows unbounded.
    counted = {s.labels["channel"] for m in metrics.REGISTRY.collect() if m.name == "vorhoelle_notifications"
               for s in m.samples}
    assert "whatsapp" in counted and not any(REVIEWER in name or PARTNER in name for name in counted)
