"""Award emoji on issues and comments: one per name and user, each fires an Emoji Hook."""

from __future__ import annotations

import logging

from bot.sandbox import events
from bot.sandbox.context import Sandbox
from bot.sandbox.errors import ApiError
from bot.sandbox.issue_service import touch
from bot.sandbox.store import Award, Issue, Note, Project, User
from bot.sandbox.todos import done_by_acting

log = logging.getLogger(__name__)


def awards_on(sandbox: Sandbox, issue: Issue, note: Note | None = None) -> list[Award]:
    kind, target = ("Note", note.id) if note else ("Issue", issue.id)
    return [
        a
        for a in sandbox.store.all("awards")
        if a.awardable_type == kind and a.awardable_id == target
    ]


def find_award(
    sandbox: Sandbox, issue: Issue, note: Note | None, name: str, user: User
) -> Award | None:
    return next(
        (a for a in awards_on(sandbox, issue, note) if a.name == name and a.user_id == user.id),
        None,
    )


def give_award(
    sandbox: Sandbox, actor: User, project: Project, issue: Issue, name: str, note: Note | None = None
) -> Award:
    """Award `name`; 409 when `actor` already awarded it here, as the API answers."""
    if find_award(sandbox, issue, note, name, actor):
        raise ApiError(409, {"message": f"409 Conflict: {name} has already been awarded by you"})
    store = sandbox.store
    award = store.add(
        "awards",
        Award(
            id=store.new_id("awards"),
            name=name,
            user_id=actor.id,
            awardable_type="Note" if note else "Issue",
            awardable_id=note.id if note else issue.id,
            created_at=store.now(),
        ),
    )
    touch(sandbox, issue)
    done_by_acting(sandbox, actor, issue)
    log.info("%s awarded :%s: on issue %s", actor.username, name, issue.id)
    events.emoji_event(sandbox, project, issue, award, actor, "award", note)
    return award


def revoke_award(
    sandbox: Sandbox, actor: User, project: Project, issue: Issue, award: Award, note: Note | None = None
) -> None:
    sandbox.store.delete("awards", award.id)
    touch(sandbox, issue)
    log.info("%s revoked :%s: on issue %s", actor.username, award.name, issue.id)
    events.emoji_event(sandbox, project, issue, award, actor, "revoke", note)


def delete_note_with_awards(sandbox: Sandbox, issue: Issue, note: Note) -> None:
    """Delete a comment and its award emoji, which GitLab removes along with it (no hook)."""
    for award in awards_on(sandbox, issue, note):
        sandbox.store.delete("awards", award.id)
    sandbox.store.delete("notes", note.id)
