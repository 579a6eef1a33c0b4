"""The issue's timeline and the reviewer's inbox: one note per step, nobody told of their own
step, a to-do only with work to do — as the reviewer sees it in GitLab."""

from __future__ import annotations

from typing import Any

from bot.converge import converge_issue
from bot.issue_lock import issue_lock
from bot.markers import parse_markers
from bot.notify import build_dispatcher
from tests.fakes.http import Answer


def as_reviewer(bot: Any, username: str | None, **notify: Any) -> None:
    """Make `username` the reviewer the channels speak to (a settings reload, as a push does)."""
    settings = bot.runtime.settings
    bot.runtime.settings = settings.model_copy(update={
        "staging": settings.staging.model_copy(update={"reviewer": username}),
        "notify": settings.notify.model_copy(update=notify),
    })


def move(world: Any, role: str, iid: int, to: str) -> None:
    world.project(role).issues.update(iid, {"add_labels": f"job-match/{to}", "remove_labels": "job-match/pending"})


def inbox(world: Any, role: str, iid: int, state: str = "pending") -> list[str]:
    return sorted(t.action_name for t in world.clients[role].todos.list(get_all=True, state=state) if t.target["iid"] == iid)


def bot_notes(bot: Any, iid: int) -> list[str]:
    snap = bot.snapshot(iid)
    return [n.body for n in snap.notes if n.author_id == snap.bot_user.id]


def todo_bot(make_bot: Any, world: Any, **notify: Any) -> Any:
    bot = make_bot(channels={"gitlab_todo": {"enabled": True}}, **notify)
    as_reviewer(bot, world.users["reviewer"]["username"])
    return bot


def test_the_reviewers_own_step_is_one_note_tells_nobody_and_clears_their_inbox(make_bot, world):
    bot = todo_bot(make_bot, world)
    (iid,) = bot.stage(92)
    assert inbox(world, "reviewer", iid) == ["assigned"]           # staging assigned the reviewer
    notes_before, messages_before = len(bot_notes(bot, iid)), len(bot.slack.messages())

    move(world, "reviewer", iid, "approved")
    converge_issue(bot.runtime, iid)

    assert inbox(world, "reviewer", iid) == [] and inbox(world, "reviewer", iid, "done") == ["assigned"]
    assert len(bot.slack.messages()) == messages_before and [e["kind"] for e in bot.outbox_entries()] == ["news"]
    assert ("approved", "slack") not in bot.notified(iid)
    (history,) = bot_notes(bot, iid)[notes_before:]                  # one step, one note
    assert "🔔" not in history and not [m for m in parse_markers(history) if m.kind == "sending"]


def test_own_actions_on_tells_the_reviewer_of_their_own_step(make_bot, world):
    bot = todo_bot(make_bot, world)
    as_reviewer(bot, world.users["reviewer"]["username"], own_actions=True)
    (iid,) = bot.stage(92)
    move(world, "reviewer", iid, "approved")
    converge_issue(bot.runtime, iid)
    assert bot.slack.messages()[-1]["text"] == "[Vorhölle] Approved: 92% Cloud Architect 1"


def test_someone_elses_step_reaches_the_reviewer_and_a_to_do_only_where_there_is_work(make_bot, world):
    bot = todo_bot(make_bot, world)
    approved, rejected = bot.stage(92, 81)

    move(world, "maintainer", approved, "approved")
    move(world, "maintainer", rejected, "rejected")
    for iid in (approved, rejected):
        converge_issue(bot.runtime, iid)

    assert inbox(world, "reviewer", approved) == ["assigned", "mentioned"]   # send it: work to do
    assert inbox(world, "reviewer", rejected) == ["assigned"]                # news, no to-do
    assert ("approved", "gitlab_todo") in bot.notified(approved)
    assert ("rejected", "slack") in bot.notified(rejected) and ("rejected", "gitlab_todo") not in bot.notified(rejected)
    assert [m["text"] for m in bot.slack.messages()[1:]] == [
        "[Vorhölle] Approved: 92% Cloud Architect 1", "[Vorhölle] Rejected: 81% Cloud Architect 2"]


def test_a_to_do_repeated_after_a_crash_says_it_may_repeat(make_bot, world):
    bot = todo_bot(make_bot, world)
    as_reviewer(bot, None)
    (iid,) = bot.stage(92)                     # nobody assigned: no reviewer at staging time
    as_reviewer(bot, world.users["reviewer"]["username"])
    move(world, "maintainer", iid, "approved")
    bot.notifier.on_converged = lambda snapshot: None    # dies after the history note and its intents
    converge_issue(bot.runtime, iid)
    bot.runtime.gitlab.assign(iid, [world.users["reviewer"]["id"]])   # ...and after assigning

    bot.start()
    as_reviewer(bot, world.users["reviewer"]["username"])
    bot.clock.advance(minutes=11)                        # past the claim's lease: its process died
    bot.notifier.on_converged(bot.snapshot(iid))

    history = next(b for b in bot_notes(bot, iid) if '"kind":"transition"' in b)
    assert "this match is waiting for you. (This may repeat an earlier to-do" in history
    assert inbox(world, "reviewer", iid) == ["assigned", "mentioned"]


class LockCheckingGitLab:
    """GitLab access that fails a write made without holding the issue's lock."""

    def __init__(self, gitlab: Any, project: str):
        self.inner, self.project_ref, self.writes = gitlab, project, 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name not in ("create_note", "edit_note", "update_labels", "assign"):
            return found

        def write(iid: int, *args: Any, **kwargs: Any) -> Any:
            assert issue_lock(self.inner, self.project_ref, iid).lock._is_owned(), f"{name} on #{iid} without its lock"
            self.writes += 1
            return found(iid, *args, **kwargs)

        return write


def test_every_write_of_the_notifier_holds_the_issues_lock_like_the_converge(make_bot, world):
    bot = make_bot()
    checked = LockCheckingGitLab(bot.runtime.gitlab, bot.runtime.settings.project)
    runtime = bot.runtime
    bot.runtime.notifier = build_dispatcher(lambda: runtime.settings, checked, clock=bot.clock, sleep=lambda s: None)
    bot.slack.fail_next(2, Answer(500, "rollup_error"))
    (iid,) = bot.stage(92)                      # intent, record, owed label
    assert bot.has_owed_label(iid)
    bot.clock.advance(minutes=5)
    bot.notifier.flush_due()                    # the flush's record and label, every 30 s in `serve`
    move(world, "maintainer", iid, "approved")
    converge_issue(bot.runtime, iid)            # the history note's record
    assert checked.writes >= 5 and not bot.has_owed_label(iid)
    assert ("approved", "slack") in bot.notified(iid)


def test_a_channel_enabled_by_a_reload_carries_the_next_message(make_bot, world):
    bot = make_bot(channels={"slack": {"enabled": False}})
    (iid,) = bot.stage(92)
    assert bot.slack.messages() == []
    channels = bot.runtime.settings.notify.channels
    slack = channels.slack.model_copy(update={"enabled": True})
    as_reviewer(bot, None, channels=channels.model_copy(update={"slack": slack}))

    move(world, "maintainer", iid, "approved")
    converge_issue(bot.runtime, iid)

    assert [m["text"] for m in bot.slack.messages()] == ["[Vorhölle] Approved: 92% Cloud Architect 1"]
