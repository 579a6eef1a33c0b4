"""Approve and reject from Slack, end to end: the bot's Slack message with its buttons, Slack's
interactivity requests (signed form-encoded `payload`) to /slack/actions, the converge on the
sandbox GitLab, and what Slack shows afterwards (chat.update for everyone, ephemeral for one)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.actions.conftest import GUEST_SLACK, REVIEWER_SLACK, STRANGER_SLACK
from tests.fakes.slack import interaction, press, signed, submit
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(120)


def outcome_shown(desk, message, iid) -> str | None:
    """The text that replaced match #iid's buttons in the message, once chat.update did it."""
    blocks = desk.slack.posted[message["ts"]]["blocks"]
    block = next(b for b in blocks if b.get("block_id") == f"vorhoelle:{iid}")
    return block["elements"][0]["text"] if block["type"] == "context" else None


def answers(desk, user: str, count: int = 1) -> list[str]:
    wait_until(lambda: len(desk.slack.said_to(user)) >= count, message=f"{count} answer(s) to {user}")
    return desk.slack.said_to(user)


def test_approve_from_slack_is_the_reviewers_step_recorded_via_slack(desk):
    iid, message = desk.stage()
    started = time.monotonic()
    answer = interaction(desk.bot.url, press(message, iid, "approve", REVIEWER_SLACK))
    acknowledged = time.monotonic() - started

    assert answer.status_code == 200 and acknowledged < 3   # Slack's limit; the converge follows
    wait_until(lambda: outcome_shown(desk, message, iid), message="the message updated in place")
    assert desk.labels(iid) == {"job-match/approved"}
    (step,) = desk.history(iid)
    reviewer = desk.world.users["reviewer"]["username"]
    assert step["channel"] == "slack" and step["username"] == reviewer and step["to"] == "approved"
    link = f"https://example-team.slack.com/archives/C0JOBS01/p{message['ts'].replace('.', '')}"
    assert f"via Slack ([{link}]({link}))" in step["body"]
    assert outcome_shown(desk, message, iid).startswith("✅ Approved by ")
    assert "via Slack, <!date^" in outcome_shown(desk, message, iid)
    assert desk.slack.said_to(REVIEWER_SLACK) == []


def test_the_approved_message_carries_send_which_marks_it_sent(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", REVIEWER_SLACK))
    desk.settle()
    wait_until(lambda: len(desk.slack.posted) == 2, message="the approval announced")
    approved = list(desk.slack.posted.values())[-1]
    assert approved["text"].startswith("[Vorhölle] Approved: ")

    interaction(desk.bot.url, press(approved, iid, "send", REVIEWER_SLACK))

    wait_until(lambda: outcome_shown(desk, approved, iid), message="the send shown in place")
    assert desk.labels(iid) == {"job-match/sent"} and "📨 Marked as sent by" in outcome_shown(desk, approved, iid)
    assert outcome_shown(desk, message, iid).startswith("✅ Approved by ")   # the first message keeps its outcome


def test_reject_asks_for_the_reason_in_a_modal_and_records_it(desk):
    iid, message = desk.stage()
    assert interaction(desk.bot.url, press(message, iid, "reject", REVIEWER_SLACK)).status_code == 200
    wait_until(lambda: desk.slack.views, message="the reason modal")
    (view,) = desk.slack.views
    assert view["trigger_id"] == f"trigger.{REVIEWER_SLACK}.{iid}" and desk.labels(iid) == {"job-match/pending"}

    closed = interaction(desk.bot.url, submit(view, REVIEWER_SLACK, "too far away <!channel>"))

    assert closed.status_code == 200 and closed.content == b""   # an empty 200 closes the modal
    wait_until(lambda: outcome_shown(desk, message, iid), message="the message updated in place")
    assert desk.labels(iid) == {"job-match/rejected"}
    (step,) = desk.history(iid)
    assert step["text"] == "too far away <!channel>" and step["source"] == f"slack:view.{view['id']}"
    assert "❌ Rejected by" in outcome_shown(desk, message, iid)
    assert "too far away &lt;!channel&gt;" in outcome_shown(desk, message, iid)


def test_a_guest_is_refused_in_slack_and_in_gitlab(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", GUEST_SLACK))

    (said,) = answers(desk, GUEST_SLACK)
    assert said == f"I did not approve #{iid}: that needs developer access or more, and you have guest access in GitLab."
    (refusal,) = desk.history(iid, "refusal")
    assert refusal["body"].startswith("@" + desk.world.users["guest"]["username"])
    assert desk.labels(iid) == {"job-match/pending"} and outcome_shown(desk, message, iid) is None


def test_an_unknown_slack_user_is_told_and_nothing_changes(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", STRANGER_SLACK))

    (said,) = answers(desk, STRANGER_SLACK)
    assert said == f"I don't know you in GitLab — ask the maintainer to map {STRANGER_SLACK}."
    assert desk.decisions(iid) == [] and desk.labels(iid) == {"job-match/pending"}


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp", "no signature", "changed body"])
def test_requests_slack_did_not_sign_now_are_401_and_change_nothing(desk, forgery, caplog):
    iid, message = desk.stage()
    payload = press(message, iid, "approve", REVIEWER_SLACK)
    body = urlencode({"payload": json.dumps(payload)})
    headers = {
        "wrong secret": signed(body, secret="not-the-apps-secret"),
        "stale timestamp": signed(body, timestamp=int(time.time()) - 600),
        "no signature": {"Content-Type": "application/x-www-form-urlencoded"},
        "changed body": signed(body.replace("approve", "reject")),
    }[forgery]

    answer = interaction(desk.bot.url, payload, headers=headers, body=body)

    assert answer.status_code == 401 and answer.json()["error"] == "invalid Slack signature"
    assert "Slack request refused (401)" in caplog.text
    desk.settle()
    assert desk.labels(iid) == {"job-match/pending"} and desk.decisions(iid) == []
    assert desk.slack.ephemeral == [] and desk.slack.views == []


@pytest.mark.parametrize("body", ["payload=not-json", "nothing=here", "payload=%5B1%5D",
                                  "payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%22x%22%5D%7D"])
def test_a_signed_body_that_is_no_interaction_is_400(desk, body):
    answer = interaction(desk.bot.url, {}, headers=signed(body), body=body)
    assert answer.status_code == 400 and answer.json()["error"] == "not a Slack interaction"


def test_a_replayed_request_is_recorded_once(desk):
    iid, message = desk.stage()
    payload = press(message, iid, "approve", REVIEWER_SLACK, action_ts="1700000100.000001")
    interaction(desk.bot.url, payload)
    wait_until(lambda: outcome_shown(desk, message, iid), message="the approval")
    interaction(desk.bot.url, payload)   # the same signed request again, within Slack's window

    (said,) = answers(desk, REVIEWER_SLACK)
    assert said.startswith(f"Nothing changed: #{iid} is already approved (")
    assert [s["source"] for s in desk.history(iid)] == ["slack:1700000100.000001"]


def test_a_double_press_changes_nothing_and_says_the_state(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", REVIEWER_SLACK))
    interaction(desk.bot.url, press(message, iid, "approve", REVIEWER_SLACK))

    (said,) = answers(desk, REVIEWER_SLACK)
    assert said.startswith(f"Nothing changed: #{iid} is already approved")
    assert len(desk.history(iid)) == 1 and desk.history(iid, "refusal") == []


def test_a_press_after_a_decision_in_gitlab_changes_nothing(desk):
    iid, message = desk.stage()
    desk.world.project("maintainer").issues.get(iid).notes.create({"body": "/reject filled elsewhere"})
    desk.settle()
    wait_until(lambda: desk.labels(iid) == {"job-match/rejected"}, message="the rejection in GitLab")

    interaction(desk.bot.url, press(message, iid, "approve", REVIEWER_SLACK))

    (said,) = answers(desk, REVIEWER_SLACK)
    assert said.startswith(f"Nothing changed: #{iid} is already rejected (")
    assert [s["channel"] for s in desk.history(iid)] == ["comment"] and desk.history(iid, "refusal") == []
