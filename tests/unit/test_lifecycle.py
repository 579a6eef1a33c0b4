"""The lifecycle after sending, decided from hand-made GitLab JSON: replies, rounds, offers,
outcomes that close the issue, and a reopened issue going back to where it was."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot import history
from bot.commands import REGISTRY
from bot.markers import parse_markers
from bot.lifecycle.when import WhenError, parse_when
from bot.sandbox.quick_actions import QUICK_ACTIONS
from bot.workflow import ApiAction, Plan, plan
from tests.unit.test_workflow import PEOPLE, WORKFLOW, Issue


class LifeIssue(Issue):
    """An issue that can be closed and reopened and carries a due date, as the converge sets them."""

    def __init__(self, state: str = "sent") -> None:
        super().__init__(state)
        self.state, self.due = "opened", None

    def snapshot(self):
        snap = super().snapshot()
        return type(snap)(**{**vars(snap), "state": self.state, "due_date": self.due})

    def converge(self, *actions: ApiAction) -> Plan:
        snapshot = self.snapshot()
        result = plan(snapshot, WORKFLOW, lambda uid: next(lvl for i, lvl in PEOPLE.values() if i == uid), actions)
        closing = next((r for r in reversed(result.replies) if r.kind == "transition"), None) if result.close else None
        for reply in result.replies:
            self.comment("vorhoelle", history.note_body(reply, snapshot, WORKFLOW, close=reply is closing))
        self.labels = [lb for lb in self.labels if lb not in result.remove_labels] + list(result.add_labels)
        self.state = "closed" if result.close else self.state
        self.due = result.due_date if result.change_due_date else self.due
        return result

    def last_marker(self):
        return parse_markers(self.notes[-1]["body"])[0]


def test_reply_is_recorded_where_the_match_is_and_ends_no_reply():
    issue = LifeIssue("sent")
    issue.comment("rev", "/reply They want to talk next week")
    result = issue.converge()
    assert (result.final_state, issue.last_marker().data["happened"]) == ("sent", "reply")
    assert issue.last_marker().data["text"] == "They want to talk next week"
    assert "**Reply received**, recorded by Rev Person" in issue.notes[-1]["body"]
    silent = LifeIssue("no-reply")
    silent.comment("rev", "/reply finally an answer")
    assert silent.converge().final_state == "sent"


def test_two_interview_rounds_set_the_due_date_to_the_next_round():
    issue = LifeIssue("sent")
    issue.comment("rev", "/interview 2026-03-10 14:00 with the hiring manager; video call")
    issue.converge()
    first = issue.last_marker().data
    assert first["happened"] == "round" and first["round"] == 1
    assert first["when"] == "2026-03-10T14:00:00+01:00" and first["with"] == "the hiring manager"
    assert first["text"] == "video call" and (first["from"], first["to"]) == ("sent", "interview")
    assert issue.due == "2026-03-10"
    issue.comment("rev", "/interview 12.3. 9:30 mit Frau Sommer")
    result = issue.converge()
    assert result.final_state == "interview" and issue.last_marker().data["round"] == 2
    assert issue.due == "2026-03-12"
    assert "Interview round 2**: Thu 12 Mar 2026, 09:30 (Europe/Berlin), with Frau Sommer" in issue.notes[-1]["body"]


def test_tomorrow_is_read_from_when_the_comment_was_written():
    issue = LifeIssue("sent")
    issue.comment("rev", "/interview tomorrow 9:30")  # written on 2026-03-01
    issue.converge()
    assert issue.last_marker().data["when"] == "2026-03-02T09:30:00+01:00"


def test_an_unreadable_time_is_refused_with_examples():
    issue = LifeIssue("sent")
    issue.comment("rev", "/interview soon-ish")
    result = issue.converge()
    assert result.final_state == "sent"
    assert issue.last_marker().data["refused"] == ["bad_time"]
    assert "2026-12-10 14:00" in issue.notes[-1]["body"] and "@rev" in issue.notes[-1]["body"]


def test_offer_then_hired_closes_the_issue_with_the_note_that_says_so():
    issue = LifeIssue("interview")
    issue.comment("rev", "/offer 95 €/h, start 1.2., 6 months")
    issue.converge()
    assert issue.last_marker().data["happened"] == "offer" and issue.due is None
    issue.comment("rev", "/hired")
    result = issue.converge()
    assert result.close and issue.state == "closed"
    assert issue.notes[-1]["body"].rstrip().endswith("/close")
    assert issue.labels[-1] == "job-match/hired"


@pytest.mark.parametrize("command,state", [
    ("/turned-down not enough Go", "turned-down"), ("/withdraw took another", "withdrawn"),
    ("/decline rate too low", "declined"),
])
def test_each_outcome_closes_and_keeps_its_reason(command: str, state: str):
    issue = LifeIssue("interview")
    issue.comment("rev", command)
    result = issue.converge()
    assert (result.final_state, issue.state) == (state, "closed")
    assert "Reason: " + command.split(" ", 1)[1] in issue.notes[-1]["body"]


def test_reopening_the_closed_issue_puts_the_match_back_where_it_was():
    issue = LifeIssue("offer")
    issue.comment("rev", "/hired")
    issue.converge()
    issue.state = "opened"  # someone reopened it in GitLab
    result = issue.converge()
    assert (result.start_state, result.final_state) == ("hired", "offer")
    assert not result.close and issue.labels[-1] == "job-match/offer"
    assert "the issue was reopened" in issue.notes[-1]["body"]
    assert issue.converge().empty  # handled once


def test_a_guest_is_refused_and_nothing_moves():
    issue = LifeIssue("sent")
    issue.comment("guest", "/interview 2026-03-10 14:00")
    result = issue.converge()
    assert result.final_state == "sent" and issue.due is None
    assert issue.last_marker().data["refused"] == ["no_right"]


def test_a_reply_before_sending_is_not_recorded_and_says_where_it_would_be():
    issue = LifeIssue("pending")
    issue.comment("rev", "/reply hello")
    issue.converge()
    body = issue.notes[-1]["body"]
    assert issue.last_marker().data["refused"] == ["not_recorded"] and "sent" in body and "**pending**" in body


def test_commands_without_their_argument_say_how_to_write_them():
    issue = LifeIssue("sent")
    issue.comment("rev", "/offer")
    issue.converge()
    assert issue.last_marker().data["refused"] == ["incomplete"]
    assert "That command needs more: write `/offer <terms>`." in issue.notes[-1]["body"]


def test_api_actions_take_the_same_path():
    issue = LifeIssue("sent")
    issue.converge(ApiAction("r1", "interview", "Ada (CLI)", reason="on site", when="2026-03-10 14:00",
                             with_="the hiring manager"))
    data = issue.last_marker().data
    assert (data["with"], data["text"], data["channel"]) == ("the hiring manager", "on site", "api")
    issue.converge(ApiAction("r2", "offer", "Ada (CLI)", reason="100 €/h"))
    issue.converge(ApiAction("r3", "hired", "Ada (CLI)"))
    assert issue.state == "closed" and issue.labels[-1] == "job-match/hired"


def test_hand_edited_labels_work_as_for_the_review():
    issue = LifeIssue("sent")
    issue.label("rev", add="interview", remove="sent")
    assert issue.converge().final_state == "interview"
    issue.label("guest", add="hired", remove="interview")
    result = issue.converge()
    assert result.final_state == "interview" and issue.labels[-1] == "job-match/interview"


def test_help_lists_every_lifecycle_command_with_who_may_use_it():
    issue = LifeIssue("sent")
    issue.comment("rev", "/help")
    issue.converge()
    body = issue.notes[-1]["body"]
    for verb in ("reply", "interview", "offer", "hired", "decline", "turned-down", "withdraw"):
        assert f"/{verb}" in body
    assert "| developers |" in body and "| maintainers |" in body


def test_no_command_is_eaten_by_gitlab_as_a_quick_action():
    """GitLab removes a line whose verb is one of its quick actions before any bot sees it."""
    reaching = {spec.slash_name.replace("-", "_") for spec in REGISTRY.values()}
    assert not {spec.slash_name for spec in REGISTRY.values()} & QUICK_ACTIONS
    assert not reaching & QUICK_ACTIONS


@pytest.mark.parametrize("text,expected,rest", [
    ("2026-12-10 14:00 with x", "2026-12-10T14:00:00+01:00", "with x"),
    ("10.12. 14:00", "2026-12-10T14:00:00+01:00", ""),
    ("tomorrow 9:30 Zoom", "2026-12-07T09:30:00+01:00", "Zoom"),
    ("morgen um 9:30 Uhr", "2026-12-07T09:30:00+01:00", ""),
    ("Dec 10 2pm", "2026-12-10T14:00:00+01:00", ""),
    ("2.1. 10:00", "2027-01-02T10:00:00+01:00", ""),
])
def test_times_as_people_type_them(text: str, expected: str, rest: str):
    now = datetime(2026, 12, 6, 20, 0, tzinfo=timezone.utc)
    moment, left = parse_when(text, now=now, zone="Europe/Berlin")
    assert (moment.isoformat(), left) == (expected, rest)


@pytest.mark.parametrize("text", ["10.12 with x", "next week", "31.02. 10:00", ""])
def test_no_time_no_round(text: str):
    with pytest.raises(WhenError):
        parse_when(text, now=datetime(2026, 12, 6, tzinfo=timezone.utc), zone="Europe/Berlin")


def test_an_open_issue_in_a_final_state_without_the_bots_closing_note_stays_where_it_is():
    """An imported hired row (closed by the import, reopened later) has no step to go back to."""
    issue = LifeIssue("hired")
    result = issue.converge()
    assert result.empty and result.final_state == "hired"


def test_untrusted_words_in_a_round_stay_inert_in_the_note():
    issue = LifeIssue("sent")
    issue.comment("rev", "/interview 2026-03-10 14:00 with @all <b>boss</b>; /close now")
    issue.converge()
    body = issue.notes[-1]["body"]
    assert "@all" not in body.replace("\\@all", "") and "<b>" not in body
    assert not any(line.strip().startswith("/close") for line in body.splitlines())
    assert issue.state == "opened"


def test_reopened_and_moved_on_in_one_go_closes_again_and_stays_closed():
    """A reopen and a command seen by the same converge: back first, then the command, closed again."""
    issue = LifeIssue("offer")
    issue.comment("rev", "/hired")
    issue.converge()
    issue.state = "opened"
    issue.comment("rev", "/decline changed my mind")
    result = issue.converge()
    assert [r.outcomes[0].to_state for r in result.replies] == ["offer", "declined"]
    assert result.close and issue.state == "closed"
    assert issue.converge().empty  # the new closing step is no reopening


def test_a_reply_ending_no_reply_is_no_send_and_never_held_for_description_edits():
    """The send check guards mailing the application; a reply after it mails nothing."""
    issue = LifeIssue("no-reply")
    issue.notes.append({"id": 99, "author": {"id": 5, "username": "rep", "name": "Rep"}, "body": "changed the description",
                        "created_at": "2026-03-01T09:00:00+00:00", "updated_at": "2026-03-01T09:00:00+00:00",
                        "system": True, "internal": False})
    issue.comment("rev", "/reply they answered after all")
    snapshot = issue.snapshot()
    assert snapshot.description_edits  # a Reporter edited the description the bot wrote
    result = plan(snapshot, WORKFLOW, lambda uid: next(lvl for i, lvl in PEOPLE.values() if i == uid), guard_send=True)
    assert result.final_state == "sent" and result.replies[0].kind == "transition"
