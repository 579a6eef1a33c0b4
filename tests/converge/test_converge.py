"""converge_issue against the sandbox GitLab: people act through python-gitlab over real HTTP,
the bot converges, and GitLab shows the result."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.converge import ApiAction, converge_issue
from bot.gitlab_access import GitLabAccess, GitLabError
from bot.markers import parse_markers
from bot.runtime import Runtime
from bot.sandbox.control import SandboxControl
from tests.support.bot import bot_runtime
from tests.support.world import World

NOTE_WRITES = ("POST /projects/:id/issues/:iid/notes", "PUT /projects/:id/issues/:iid/notes/:note_id")
ISSUE_WRITES = ("PUT /projects/:id/issues/:iid",)


@pytest.fixture
def runtime(world: World) -> Runtime:
    return bot_runtime(world)


@pytest.fixture
def control(sandbox: Any) -> Iterator[SandboxControl]:
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        yield control
        control.faults()


def staged(world: World, state: str = "pending", **fields: Any) -> int:
    """An issue as staging leaves it: created by the bot with the marker and a state label."""
    issue = world.project("bot").issues.create(
        {"title": "[JOB-MATCH] 91% — Backend engineer at Example GmbH", "description": "A made-up match.",
         "labels": f"job-match,job-match/{state}", **fields}
    )
    return issue.iid


def issue_as(world: World, role: str, iid: int) -> Any:
    return world.project(role).issues.get(iid)


def comment(world: World, role: str, iid: int, body: str) -> Any:
    return world.project(role).issues.get(iid, lazy=True).notes.create({"body": body})


def state_labels(world: World, iid: int) -> list[str]:
    return sorted(label for label in issue_as(world, "bot", iid).labels if label.startswith("job-match/"))


def bot_notes(world: World, iid: int) -> list[Any]:
    notes = world.project("bot").issues.get(iid, lazy=True).notes.list(get_all=True, sort="asc", order_by="created_at")
    return [n for n in notes if n.author["id"] == world.users["bot"]["id"] and not n.system]


def writes(control: SandboxControl) -> int:
    calls = control.counters()["calls"]
    return sum(sum(calls.get(endpoint, {}).values()) for endpoint in NOTE_WRITES + ISSUE_WRITES)


def only_note(world: World, iid: int) -> str:
    (note,) = bot_notes(world, iid)
    return note.body


# -- every way of acting ------------------------------------------------------------------------


def test_label_edit_by_a_reviewer_is_recorded(world: World, runtime: Runtime) -> None:
    iid = staged(world)
    world.project("reviewer").issues.update(iid, {"add_labels": "job-match/approved", "remove_labels": "job-match/pending"})
    result = converge_issue(runtime, iid)
    assert (result.start_state, result.final_state) == ("pending", "approved")
    body = only_note(world, iid)
    assert "**pending → approved**" in body and "by editing the labels" in body
    assert f"\\@{world.users['reviewer']['username']}" in body  # named, not pinged
    (marker,) = parse_markers(body)
    assert marker.kind == "transition" and marker.source.startswith("label_event:")
    assert state_labels(world, iid) == ["job-match/approved"]


def test_reject_comment_with_reason_links_the_comment(world: World, runtime: Runtime) -> None:
    iid = staged(world)
    note = comment(world, "reviewer", iid, "Sorry.\n/reject too junior")
    converge_issue(runtime, iid)
    body = only_note(world, iid)
    assert "Reason: too junior" in body
    assert f"#note_{note.id})" in body
    assert state_labels(world, iid) == ["job-match/rejected"]


@pytest.mark.parametrize("command", ["/accept", "@{bot} approve"])
def test_approve_by_comment(world: World, runtime: Runtime, command: str) -> None:
    iid = staged(world)
    comment(world, "reviewer", iid, command.format(bot=world.users["bot"]["username"]))
    converge_issue(runtime, iid)
    assert state_labels(world, iid) == ["job-match/approved"]
    assert "**pending → approved**" in only_note(world, iid)


@pytest.mark.parametrize(("emoji", "state"), [("thumbsup", "approved"), ("thumbsdown", "rejected")])
def test_award_emoji(world: World, runtime: Runtime, emoji: str, state: str) -> None:
    iid = staged(world)
    world.project("reviewer").issues.get(iid, lazy=True).awardemojis.create({"name": emoji})
    converge_issue(runtime, iid)
    assert state_labels(world, iid) == [f"job-match/{state}"]
    assert f":{emoji}:" in only_note(world, iid)


def test_api_action_is_recorded_with_the_callers_name(world: World, runtime: Runtime) -> None:
    iid = staged(world)
    result = converge_issue(runtime, iid, api_actions=[ApiAction("req-1", "reject", "Ada Example", reason="no visa")])
    assert result.outcome_of("api:req-1").kind == "transition"
    body = only_note(world, iid)
    assert "by Ada Example via the API" in body and "no visa" in body
    assert state_labels(world, iid) == ["job-match/rejected"]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "start", "act", "why"),
    [
        ("guest", "pending", "comment:/reject", "needs developer access or more, and you have guest access"),
        ("reporter", "pending", "labels:approved", "needs developer access or more, and you have reporter access"),
        ("reviewer", "approved", "comment:/reopen-match", "needs maintainer access or more, and you have developer access"),
        ("reviewer", "pending", "comment:/send", "the workflow has no such step"),
        ("reporter", "pending", "emoji:thumbsup", "you have reporter access"),
    ],
)
def test_refused_requests_are_undone_and_explained(
    world: World, runtime: Runtime, role: str, start: str, act: str, why: str
) -> None:
    iid = staged(world, start)
    kind, what = act.split(":")
    if kind == "comment":
        comment(world, role, iid, what)
    elif kind == "labels":
        world.project(role).issues.update(iid, {"add_labels": f"job-match/{what}", "remove_labels": f"job-match/{start}"})
    else:
        world.project(role).issues.get(iid, lazy=True).awardemojis.create({"name": what})
    result = converge_issue(runtime, iid)
    assert result.final_state == start
    assert state_labels(world, iid) == [f"job-match/{start}"]
    body = only_note(world, iid)
    assert body.startswith(f"@{world.users[role]['username']} ")
    assert why in body
    assert parse_markers(body)[0].kind == "refusal"


def test_a_state_label_added_by_hand_replaces_the_old_one_in_one_call(
    world: World, runtime: Runtime, control: SandboxControl
) -> None:
    iid = staged(world)
    world.project("reviewer").issues.update(iid, {"add_labels": "job-match/approved"})
    assert state_labels(world, iid) == ["job-match/approved", "job-match/pending"]
    control.reset_counters()
    converge_issue(runtime, iid)
    assert state_labels(world, iid) == ["job-match/approved"]
    assert control.counters()["calls"]["PUT /projects/:id/issues/:iid"] == {"200": 1}


def test_removed_state_label_is_put_back_with_an_explanation(world: World, runtime: Runtime) -> None:
    iid = staged(world, "approved")
    world.project("reviewer").issues.update(iid, {"remove_labels": "job-match/approved"})
    converge_issue(runtime, iid)
    assert state_labels(world, iid) == ["job-match/approved"]
    assert "so I put it back" in only_note(world, iid)


# -- help, edits, confidentiality ---------------------------------------------------------------


def test_help_and_unknown_verbs_get_the_command_list(world: World, runtime: Runtime) -> None:
    iid = staged(world)
    comment(world, "reviewer", iid, f"@{world.users['bot']['username']} help")
    comment(world, "guest", iid, "/frobnicate")
    converge_issue(runtime, iid)
    asked, unknown = (n.body for n in bot_notes(world, iid))
    assert "`/accept` or" in asked and "`/reject [reason]`" in asked
    assert unknown.startswith(f"@{world.users['guest']['username']} I do not know the command **frobnicate**")
    assert state_labels(world, iid) == ["job-match/pending"]


def test_an_edited_comment_does_not_run_again(world: World, runtime: Runtime) -> None:
    iid = staged(world)
    note = comment(world, "reviewer", iid, "/reject too junior")
    converge_issue(runtime, iid)
    note.body = "/reject too junior, and the salary is low"
    note.save()
    assert converge_issue(runtime, iid).effects == []
    assert len(bot_notes(world, iid)) == 1


def test_confidential_issue_history_is_internal(world: World, runtime: Runtime) -> None:
    iid = staged(world, confidential=True)
    comment(world, "reviewer", iid, "/accept")
    converge_issue(runtime, iid)
    (note,) = bot_notes(world, iid)
    assert note.internal is True


def test_issues_that_are_not_job_matches_are_left_alone(world: World, runtime: Runtime) -> None:
    issue = world.project("reviewer").issues.create({"title": "Unrelated bug"})
    comment(world, "reviewer", issue.iid, "/reject")
    result = converge_issue(runtime, issue.iid)
    assert result.skipped == "not a job-match issue" and bot_notes(world, issue.iid) == []


# -- idempotence and crashes ----------------------------------------------------------------


def test_converging_twice_writes_nothing_new(world: World, runtime: Runtime, control: SandboxControl) -> None:
    iid = staged(world)
    comment(world, "reviewer", iid, "/reject too junior")
    comment(world, "guest", iid, "/accept")
    world.project("reviewer").issues.get(iid, lazy=True).awardemojis.create({"name": "thumbsdown"})
    first = converge_issue(runtime, iid)
    assert [e.kind for e in first.effects] == ["note", "note", "labels"]
    notes = len(bot_notes(world, iid))
    control.reset_counters()
    second = converge_issue(runtime, iid)
    assert second.effects == [] and writes(control) == 0
    assert len(bot_notes(world, iid)) == notes == 2  # the agreeing 👎 needed no note


class _ReadsInStep(GitLabAccess):
    """Holds each converge after it read the notes until a second converge has read them too
    (or, when converges of one issue are serialised as they must be, until the wait gives up)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.both_read = threading.Barrier(2, timeout=3)

    def notes(self, iid: int) -> list[dict[str, Any]]:
        notes = super().notes(iid)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.both_read.wait()
        return notes


def test_converges_of_one_issue_at_once_write_each_note_once(world: World, runtime: Runtime) -> None:
    """The REST API converges in a thread of its own while the queue may be converging the same
    issue for a webhook: the two must not both write the note owed for one source."""
    iid = staged(world)
    comment(world, "reviewer", iid, "/accept")
    stepping = Runtime(settings=runtime.settings, gitlab=_ReadsInStep(
        world.url, world.users["bot"]["token"], world.project_id, retries=1, max_wait=0.01))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for running in [pool.submit(converge_issue, stepping, iid) for _ in range(2)]:
            running.result()
    assert len(bot_notes(world, iid)) == 1
    assert state_labels(world, iid) == ["job-match/approved"]


class _DiesAfterFirstNote(GitLabAccess):
    """Turns the sandbox's note faults on once the first note is written: a crash mid-converge."""

    control: SandboxControl

    def create_note(self, iid: int, body: str, *, internal: bool = False) -> dict[str, Any]:
        note = super().create_note(iid, body, internal=internal)
        self.control.faults(error_rate=1.0, statuses={"500": 1}, paths=["*/notes"])
        return note


def test_a_crash_between_two_notes_ends_correct_after_the_next_converge(
    world: World, runtime: Runtime, control: SandboxControl
) -> None:
    iid = staged(world)
    comment(world, "reviewer", iid, "/accept")
    comment(world, "reviewer", iid, "/send mailed the CV")
    dying = _DiesAfterFirstNote(world.url, world.users["bot"]["token"], world.project_id, retries=1, max_wait=0.01)
    dying.control = control
    with pytest.raises(GitLabError) as caught:
        converge_issue(Runtime(settings=runtime.settings, gitlab=dying), iid)
    control.faults()
    assert caught.value.status == 500
    assert len(bot_notes(world, iid)) == 1 and state_labels(world, iid) == ["job-match/pending"]
    converge_issue(runtime, iid)
    kinds = [parse_markers(n.body)[0].data["to"] for n in bot_notes(world, iid)]
    assert kinds == ["approved", "sent"]
    assert state_labels(world, iid) == ["job-match/sent"]
    assert converge_issue(runtime, iid).effects == []


def test_the_notifier_sees_the_issue_as_it_stands_after(world: World) -> None:
    seen = []

    class Recorder:
        def on_converged(self, snapshot: Any) -> None:
            seen.append(snapshot)

    runtime = bot_runtime(world, notifier=Recorder())
    iid = staged(world)
    comment(world, "reviewer", iid, "/accept")
    converge_issue(runtime, iid)
    (snapshot,) = seen
    assert "job-match/approved" in snapshot.labels
    assert [m.kind for m in snapshot.bot_markers if m.kind == "transition"] == ["transition"]
