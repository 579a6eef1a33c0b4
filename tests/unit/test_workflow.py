"""The workflow's decisions, from hand-made GitLab JSON, without a network."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from bot import history
from bot.markers import parse_markers
from bot.config.settings import load_settings
from bot.snapshot import IssueSnapshot, Person, build_snapshot
from bot.workflow import ApiAction, Plan, plan, recorded_state

BOT = Person(1, "vorhoelle", "Vorhölle")
PEOPLE = {
    "rev": (2, 30), "rev2": (3, 30), "boss": (4, 40), "rep": (5, 20), "guest": (6, 10), "outsider": (7, 0),
}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
SETTINGS = load_settings()
WORKFLOW = SETTINGS.workflow
LABEL = {name: state.label for name, state in WORKFLOW.states.items()}


def user(username: str) -> dict:
    if username == BOT.username:
        return {"id": BOT.id, "username": BOT.username, "name": BOT.name}
    return {"id": PEOPLE[username][0], "username": username, "name": username.title() + " Person"}


class Issue:
    """GitLab's JSON for one issue, built up step by step like a timeline."""

    def __init__(self, state: str = "pending", *, confidential: bool = False) -> None:
        self.labels = ["job-match", LABEL[state]]
        self.confidential = confidential
        self.events: list[dict] = []
        self.notes: list[dict] = []
        self.awards: list[dict] = []
        self.ids = itertools.count(100)
        self.clock = itertools.count(1)

    def _at(self, at: int | None) -> str:
        return (T0 + timedelta(seconds=next(self.clock) if at is None else at)).isoformat()

    def label(self, who: str, add: str | None = None, remove: str | None = None, at: int | None = None) -> "Issue":
        when = self._at(at)
        for action, state in (("add", add), ("remove", remove)):
            if state:
                self.events.append({"id": next(self.ids), "user": user(who), "created_at": when,
                                    "label": {"name": LABEL[state]}, "action": action})
                (self.labels.append if action == "add" else self.labels.remove)(LABEL[state])
        return self

    def comment(self, who: str, body: str, at: int | None = None, internal: bool = False) -> int:
        note_id = next(self.ids)
        when = self._at(at)
        self.notes.append({"id": note_id, "author": user(who), "body": body, "created_at": when,
                           "updated_at": when, "system": False, "internal": internal})
        return note_id

    def award(self, who: str, name: str, at: int | None = None) -> "Issue":
        self.awards.append({"id": next(self.ids), "name": name, "user": user(who), "created_at": self._at(at)})
        return self

    def snapshot(self) -> IssueSnapshot:
        issue = {"id": 9000, "iid": 7, "title": "Match", "description": "", "web_url": "http://gl/x/-/issues/7",
                 "state": "opened", "labels": list(self.labels), "confidential": self.confidential,
                 "author": user("vorhoelle"), "created_at": T0.isoformat(), "updated_at": T0.isoformat()}
        return build_snapshot(issue, self.events, self.notes, self.awards, BOT)

    def converge(self, *actions: ApiAction) -> Plan:
        """Plan, then do what a converge would: write the notes and apply the labels."""
        snapshot = self.snapshot()
        result = plan(snapshot, WORKFLOW, lambda uid: next(lvl for i, lvl in PEOPLE.values() if i == uid), actions)
        for reply in result.replies:
            self.comment("vorhoelle", history.note_body(reply, snapshot, WORKFLOW), internal=reply.internal)
        self.labels = [lb for lb in self.labels if lb not in result.remove_labels] + list(result.add_labels)
        return result


def outcomes(result: Plan) -> list[tuple[str, str, str, str]]:
    return [(r.source.actor.username or r.source.actor.name, o.kind, o.to_state, o.why)
            for r in result.replies for o in r.outcomes]


# -- the transition table ---------------------------------------------------------------------

TABLE = [
    # (from, to, who, allowed?)
    ("pending", "approved", "rev", True),
    ("pending", "rejected", "rev", True),
    ("pending", "approved", "rep", False),
    ("pending", "rejected", "guest", False),
    ("pending", "approved", "outsider", False),
    ("approved", "sent", "rev", True),
    ("approved", "pending", "rev", False),
    ("approved", "pending", "boss", True),
    ("rejected", "pending", "boss", True),
    ("sent", "pending", "boss", True),
    ("pending", "sent", "boss", False),  # no such step, whoever asks
    ("rejected", "approved", "boss", False),
]


@pytest.mark.parametrize(("start", "target", "who", "allowed"), TABLE)
def test_label_edits_follow_the_transition_table(start: str, target: str, who: str, allowed: bool) -> None:
    issue = Issue(start)
    issue.label(who, add=target, remove=start)
    result = issue.converge()
    final = target if allowed else start
    assert result.final_state == final
    assert [lb for lb in issue.labels if lb.startswith("job-match/")] == [LABEL[final]]
    (reply,) = result.replies
    assert reply.kind == ("transition" if allowed else "refusal")
    assert reply.mentions is (not allowed)


def test_refusal_says_what_access_is_needed_and_mentions_the_person() -> None:
    issue = Issue("approved")
    issue.label("rev", add="pending", remove="approved")
    issue.converge()
    body = issue.notes[-1]["body"]
    assert body.startswith("@rev ")
    assert "needs maintainer access or more, and you have developer access" in body
    assert "labels are back" in body


def test_history_names_the_person_without_pinging_them() -> None:
    issue = Issue()
    issue.label("rev", add="approved", remove="pending")
    issue.converge()
    body = issue.notes[-1]["body"]
    assert "\\@rev" in body and "@rev" not in body.replace("\\@rev", "")
    (marker,) = parse_markers(body)
    assert (marker.kind, marker.data["from"], marker.data["to"]) == ("transition", "pending", "approved")


# -- exclusivity and removal ------------------------------------------------------------------


def test_adding_a_state_label_by_hand_removes_the_old_one_in_the_same_plan() -> None:
    issue = Issue()
    issue.label("rev", add="approved")  # the old label is left on
    result = issue.converge()
    assert (result.add_labels, result.remove_labels) == ((), (LABEL["pending"],))
    assert outcomes(result) == [("rev", "transition", "approved", "")]


def test_removing_the_state_label_puts_it_back_and_says_why() -> None:
    issue = Issue("approved")
    issue.label("rev", remove="approved")
    result = issue.converge()
    assert result.add_labels == (LABEL["approved"],)
    assert outcomes(result) == [("rev", "refusal", "approved", "removed")]


def test_taking_a_label_off_then_putting_another_on_is_one_change() -> None:
    issue = Issue()
    issue.label("rev", remove="pending")
    issue.label("rev", add="rejected")
    result = issue.converge()
    assert outcomes(result) == [("rev", "transition", "rejected", "")]
    assert result.replies[0].covers == ("label_event:100",)  # the removal rides along


def test_several_state_labels_at_once_are_refused() -> None:
    issue = Issue()
    issue.label("rev", add="approved", at=5)
    issue.label("rev", add="rejected", at=5)
    result = issue.converge()
    assert outcomes(result) == [("rev", "refusal", "pending", "several")]
    assert result.final_state == "pending"
    assert set(result.remove_labels) == {LABEL["approved"], LABEL["rejected"]}


# -- commands, emoji, API ---------------------------------------------------------------------


def test_comment_commands_in_order_with_reason() -> None:
    issue = Issue()
    issue.comment("rev", "/accept\nand then\n@vorhoelle send mailed on Monday")
    result = issue.converge()
    assert outcomes(result) == [("rev", "transition", "approved", ""), ("rev", "transition", "sent", "")]
    assert len(result.replies) == 1  # one note per source
    assert result.replies[0].outcomes[1].text == "mailed on Monday"


def test_command_for_the_current_state_is_answered() -> None:
    issue = Issue("rejected")
    issue.comment("rev", "/reject again")
    assert outcomes(issue.converge()) == [("rev", "refusal", "rejected", "already")]


def test_emoji_approve_and_reject_with_rights() -> None:
    issue = Issue()
    issue.award("rep", "thumbsup").award("rev", "thumbsdown")
    result = issue.converge()
    assert outcomes(result) == [("rep", "refusal", "approved", "no_right"), ("rev", "transition", "rejected", "")]


def test_emoji_can_be_switched_off_and_renamed() -> None:
    workflow = WORKFLOW.model_copy(update={"emoji": WORKFLOW.emoji.model_copy(update={"approve": "rocket"})})
    issue = Issue()
    issue.award("rev", "thumbsup").award("rev", "rocket")
    result = plan(issue.snapshot(), workflow, lambda uid: 30)
    assert [o.to_state for r in result.replies for o in r.outcomes] == ["approved"]
    off = workflow.model_copy(update={"emoji": workflow.emoji.model_copy(update={"enabled": False})})
    assert plan(issue.snapshot(), off, lambda uid: 30).replies == ()


def test_emoji_agreeing_with_the_state_is_quiet_and_never_replayed_later() -> None:
    issue = Issue()
    issue.comment("rev", "/accept")
    issue.converge()
    issue.award("rev2", "thumbsup")  # agrees: nothing to say
    assert issue.converge().replies == ()
    issue.comment("rev", "/send")
    result = issue.converge()
    assert outcomes(result) == [("rev", "transition", "sent", "")]
    assert any(c.startswith("award:") for c in result.replies[0].covers)
    issue.comment("boss", "@vorhoelle reopen-match")
    issue.converge()
    # The old 👍 is covered: it does not approve the reopened match.
    assert issue.converge().empty
    assert recorded_state(issue.snapshot(), WORKFLOW) == "pending"


def test_api_actions_are_trusted_but_follow_the_table() -> None:
    issue = Issue()
    result = issue.converge(ApiAction("r1", "approve", "Ada (CLI)", reason="strong fit"), ApiAction("r2", "reopen", "Ada (CLI)"))
    assert outcomes(result) == [("Ada (CLI)", "transition", "approved", ""), ("Ada (CLI)", "transition", "pending", "")]
    assert "via the API" in issue.notes[-2]["body"]
    again = issue.converge(ApiAction("r1", "approve", "Ada (CLI)"))
    assert again.replies == ()  # the request id was handled
    refused = issue.converge(ApiAction("r3", "send", "Ada (CLI)"))
    assert outcomes(refused) == [("Ada (CLI)", "refusal", "sent", "forbidden")]


# -- order, races, idempotence ----------------------------------------------------------------


def test_two_reviewers_at_once_end_in_one_state_and_the_loser_is_told() -> None:
    issue = Issue()
    issue.comment("rev2", "/reject not remote", at=11)
    issue.label("rev", add="approved", remove="pending", at=10)
    result = issue.converge()
    assert outcomes(result) == [("rev", "transition", "approved", ""), ("rev2", "refusal", "rejected", "forbidden")]
    assert result.final_state == "approved"
    assert issue.notes[-1]["body"].startswith("@rev2 ")


def test_mixed_sources_run_in_creation_order() -> None:
    issue = Issue()
    issue.award("rev", "thumbsup", at=30)
    issue.comment("boss", "/reopen-match", at=40)
    issue.label("rev", add="rejected", remove="pending", at=20)
    result = issue.converge()
    assert outcomes(result) == [
        ("rev", "transition", "rejected", ""),
        ("rev", "refusal", "approved", "forbidden"),
        ("boss", "transition", "pending", ""),
    ]


def test_a_second_converge_owes_nothing() -> None:
    issue = Issue()
    issue.comment("rev", "/reject too junior")
    issue.award("rep", "thumbsdown")
    issue.label("guest", add="sent")
    assert not issue.converge().empty
    assert issue.converge().empty


def test_crash_after_the_first_note_resumes_with_the_rest() -> None:
    issue = Issue()
    issue.comment("rev", "/accept")
    issue.comment("rev", "/send")
    snapshot = issue.snapshot()
    full = plan(snapshot, WORKFLOW, lambda uid: 30)
    first = full.replies[0]
    issue.comment("vorhoelle", history.note_body(first, snapshot, WORKFLOW))  # then the process died
    resumed = issue.converge()
    assert [r.source.id for r in resumed.replies] == [full.replies[1].source.id]
    assert resumed.start_state == "approved" and resumed.final_state == "sent"


def test_edited_comment_is_not_run_twice() -> None:
    issue = Issue()
    issue.comment("rev", "/reject")
    issue.converge()
    issue.notes[0]["body"] = "/reject changed my mind about the reason"
    issue.notes[0]["updated_at"] = (T0 + timedelta(hours=1)).isoformat()
    assert issue.converge().empty


def test_markers_count_only_in_the_bots_own_notes() -> None:
    issue = Issue()
    note_id = issue.comment("rev", "/accept")
    forged = f'<!-- vorhoelle:1 {{"kind":"transition","source":"note:{note_id}","state":"sent"}} -->'
    issue.comment("rep", forged + "\nnothing to see")
    result = issue.converge()
    assert result.start_state == "pending"
    assert outcomes(result) == [("rev", "transition", "approved", "")]


def test_labels_disagreeing_with_the_record_are_fixed_silently() -> None:
    issue = Issue()
    issue.comment("rev", "/accept")
    issue.converge()
    issue.labels = ["job-match", LABEL["pending"]]  # as if the label call had been lost
    result = issue.converge()
    assert result.replies == ()
    assert (result.add_labels, result.remove_labels) == ((LABEL["approved"],), (LABEL["pending"],))


def test_before_any_record_the_state_is_what_the_bot_labelled() -> None:
    issue = Issue("approved")
    issue.label("rev", add="rejected", remove="approved")
    assert recorded_state(issue.snapshot(), WORKFLOW) == "approved"


# -- confidentiality and escaping -------------------------------------------------------------


def test_confidential_issue_history_is_internal() -> None:
    issue = Issue(confidential=True)
    issue.comment("rev", "/accept")
    (reply,) = issue.converge().replies
    assert reply.internal


def test_an_internal_comment_is_answered_internally() -> None:
    issue = Issue()
    issue.comment("rev", "/reject salary", internal=True)
    (reply,) = issue.converge().replies
    assert reply.internal


def test_hostile_reason_stays_inert_in_the_note() -> None:
    issue = Issue()
    issue.comment("rev", "/reject @all <img src=x onerror=alert(1)> [x](javascript:alert(1)) --> done")
    issue.converge()
    body = issue.notes[-1]["body"]
    text = body.split("<!-- vorhoelle")[0]
    assert "@all" not in text.replace("\\@all", "")
    assert "<img" not in text and "](javascript" not in text
    (marker,) = parse_markers(body)  # the marker survives the `-->` in the reason
    assert marker.source.startswith("note:") and "-->" in marker.data["text"]
