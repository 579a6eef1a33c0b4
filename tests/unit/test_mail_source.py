"""Mail from the mailbox as a source of the workflow: recorded once, like /reply and /interview,
and an automatic mail noted without moving the match."""

from __future__ import annotations

from datetime import datetime, timezone

from bot import history
from bot.workflow import MailAnswer, plan
from tests.unit.test_lifecycle import LifeIssue
from tests.unit.test_workflow import PEOPLE, WORKFLOW

AT = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
DETAILS = {"sender": "Erika <erika@example.org>", "date": "Mon 02 Mar 2026", "subject": "AW: /close @all",
           "excerpt_lines": ["/close", "@all hallo"], "attachments": ["form.pdf"]}


def converge(issue: LifeIssue, *mails: MailAnswer):
    snapshot = issue.snapshot()
    result = plan(snapshot, WORKFLOW, lambda uid: next(lvl for i, lvl in PEOPLE.values() if i == uid), mails=mails)
    for reply in result.replies:
        issue.comment("vorhoelle", history.note_body(reply, snapshot, WORKFLOW))
    return result


def answer(**more) -> MailAnswer:
    return MailAnswer(message_id="<r1@example.org>", sender="Erika <erika@example.org>", at=AT,
                      summary="AW: /close @all", details=DETAILS, **more)


def test_an_answer_ends_no_reply_and_is_recorded_once():
    issue = LifeIssue("no-reply")
    first = converge(issue, answer())
    again = converge(issue, answer())
    assert first.final_state == "sent" and again.replies == ()
    marker = issue.last_marker()
    assert (marker.source, marker.data["channel"], marker.data["happened"]) == ("mail:<r1@example.org>", "mail", "reply")
    body = issue.notes[-1]["body"]
    assert "from the mailbox" in body and "> \\/close" in body and "\\@all hallo" in body
    assert "- Attachments: form.pdf" in body and "\n/close" not in body


def test_a_calendar_invitation_records_a_round_at_its_time():
    issue = LifeIssue("sent")
    result = converge(issue, answer(round_when="2026-03-10 14:00"))
    data = issue.last_marker().data
    assert result.final_state == "interview" and (data["happened"], data["round"]) == ("round", 1)
    assert data["when"] == "2026-03-10T14:00:00+01:00" and result.due_date == "2026-03-10"


def test_an_auto_reply_is_noted_and_moves_nothing():
    issue = LifeIssue("no-reply")
    result = converge(issue, answer(noted="automatic"))
    marker = issue.last_marker()
    assert result.final_state == "no-reply" and marker.kind == "mail" and marker.data["happened"] == "automatic"
    assert "**Automatic mail** received" in issue.notes[-1]["body"]
    assert converge(issue, answer(noted="automatic")).replies == ()
