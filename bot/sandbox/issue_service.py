"""Changing an issue the way GitLab does, whoever asks (API parameters or quick actions).

One `IssueChange` is applied at once: labels (replace, add, remove — one label event per label
added or removed, with the actor), assignees (to-dos for new ones), state, title, description,
confidentiality. If anything changed, `updated_at` moves and exactly one Issue Hook fires
(`close`/`reopen` when the state changed, `update` otherwise) with GitLab's `changes`. A new
description also leaves GitLab's system note "changed the description", authored by the actor.

Quick actions in a description are part of the same change, as in GitLab: an update merges them
into the API's change (`IssueChange.merged`), a create applies them before the `open` hook.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.sandbox import events
from bot.sandbox.context import Sandbox
from bot.sandbox.errors import unprocessable
from bot.sandbox.labels import ensure_label, valid_label_name
from bot.sandbox.payloads import hook_label, hook_time, hook_user
from bot.sandbox.store import Issue, LabelEvent, Note, Project, User
from bot.sandbox.todos import done_by_acting, todos_for_assignees, todos_for_mentions

log = logging.getLogger(__name__)

MAX_TITLE = 255
MAX_DESCRIPTION = 1_048_576


@dataclass
class IssueChange:
    title: str | None = None
    description: str | None = None
    labels: list[str] | None = None  # replaces the labels when not None
    add_labels: list[str] = field(default_factory=list)
    remove_labels: list[str] = field(default_factory=list)
    assignee_ids: list[int] | None = None  # replaces the assignees when not None
    add_assignee_ids: list[int] = field(default_factory=list)
    remove_assignee_ids: list[int] = field(default_factory=list)
    state_event: str | None = None  # "close" | "reopen"
    confidential: bool | None = None
    duplicated_to_id: int | None = None  # `/duplicate #N`: the other issue's id
    due_date: str | None = None  # YYYY-MM-DD; "" clears it

    def is_empty(self) -> bool:
        return self == IssueChange()

    def merged(self, later: IssueChange) -> IssueChange:
        """This change followed by `later` (quick actions win, as GitLab merges their params)."""
        result = IssueChange()
        for key, value in vars(self).items():
            after = getattr(later, key)
            if isinstance(value, list) and key.startswith(("add_", "remove_")):
                setattr(result, key, value + after)
            else:
                setattr(result, key, value if after is None else after)
        return result


def check_before_change(title: str | None, description: str | None, new_labels: list[str]) -> None:
    """Refuse bad input before anything is written: no iid used, no label created for nothing."""
    for name in new_labels:
        valid_label_name(name)
    if title is not None and len(title) > MAX_TITLE:
        raise unprocessable({"title": [f"is too long (maximum is {MAX_TITLE} characters)"]})
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise unprocessable(
            {"description": [f"is too long (maximum is {MAX_DESCRIPTION} characters)"]}
        )


def _new_label_ids(sandbox: Sandbox, project: Project, issue: Issue, change: IssueChange) -> list[int]:
    store = sandbox.store
    if change.labels is not None:
        ids = [ensure_label(store, project, name).id for name in change.labels]
    else:
        ids = list(issue.label_ids)
    ids += [ensure_label(store, project, name).id for name in change.add_labels]
    removed = {
        label.id
        for name in change.remove_labels
        if (label := store.label_by_name(project.id, name)) is not None
    }
    return list(dict.fromkeys(i for i in ids if i not in removed))


def _new_assignee_ids(sandbox: Sandbox, issue: Issue, change: IssueChange) -> list[int]:
    ids = list(issue.assignee_ids) if change.assignee_ids is None else list(change.assignee_ids)
    ids += change.add_assignee_ids
    ids = [i for i in ids if i not in change.remove_assignee_ids]
    return [i for i in dict.fromkeys(ids) if sandbox.store.get("users", i) is not None]


def _record_label_events(
    sandbox: Sandbox, actor: User, issue: Issue, before: list[int], after: list[int]
) -> None:
    store = sandbox.store
    now = store.now()
    moves = [(i, "remove") for i in before if i not in after] + [
        (i, "add") for i in after if i not in before
    ]
    for label_id, action in moves:
        store.add(
            "label_events",
            LabelEvent(store.new_id("label_events"), issue.id, actor.id, label_id, action, now),
        )


def _label_objects(sandbox: Sandbox, ids: list[int]) -> list[dict[str, Any]]:
    labels = (sandbox.store.get("labels", i) for i in ids)
    return [hook_label(label) for label in sorted(filter(None, labels), key=lambda label: label.name)]


def apply_change(
    sandbox: Sandbox,
    actor: User,
    project: Project,
    issue: Issue,
    change: IssueChange,
    *,
    announce: bool = True,
) -> dict[str, Any]:
    """Apply `change`; returns the hook's `changes` (empty when nothing changed).

    `announce=False` is for a change that belongs to a create: its `open` hook tells it all."""
    store = sandbox.store
    check_before_change(change.title, change.description, [*(change.labels or []), *change.add_labels])
    changes: dict[str, Any] = {}

    def record(key: str, previous: Any, current: Any) -> None:
        if previous != current:
            changes[key] = {"previous": previous, "current": current}

    label_ids = _new_label_ids(sandbox, project, issue, change)
    if set(label_ids) != set(issue.label_ids):
        _record_label_events(sandbox, actor, issue, issue.label_ids, label_ids)
        changes["labels"] = {
            "previous": _label_objects(sandbox, issue.label_ids),
            "current": _label_objects(sandbox, label_ids),
        }
        issue.label_ids = label_ids

    assignee_ids = _new_assignee_ids(sandbox, issue, change)
    if assignee_ids != issue.assignee_ids:
        users = lambda ids: [hook_user(store.require("users", i)) for i in ids]  # noqa: E731
        changes["assignees"] = {"previous": users(issue.assignee_ids), "current": users(assignee_ids)}
        todos_for_assignees(sandbox, actor, issue, [i for i in assignee_ids if i not in issue.assignee_ids])
        issue.assignee_ids = assignee_ids

    now = store.now()
    state = {"close": "closed", "reopen": "opened"}.get(change.state_event or "", issue.state)
    if state != issue.state:
        record("state_id", 1 if issue.state == "opened" else 2, 1 if state == "opened" else 2)
        closed_at = now if state == "closed" else None
        record("closed_at", hook_time(issue.closed_at), hook_time(closed_at))
        issue.state, issue.closed_at = state, closed_at
        issue.closed_by_id = actor.id if state == "closed" else None
    if change.duplicated_to_id is not None and change.duplicated_to_id != issue.duplicated_to_id:
        record("duplicated_to_id", issue.duplicated_to_id, change.duplicated_to_id)
        issue.duplicated_to_id = change.duplicated_to_id

    if change.due_date is not None and (change.due_date or None) != issue.due_date:
        record("due_date", issue.due_date, change.due_date or None)
        issue.due_date = change.due_date or None

    edited = False
    for key in ("title", "description", "confidential"):
        value = getattr(change, key)
        if value is not None and value != getattr(issue, key):
            record(key, getattr(issue, key), value)
            if key == "description":
                todos_for_mentions(sandbox, actor, project, issue, value, issue.description)
            setattr(issue, key, value)
            edited = edited or key != "confidential"

    if not changes:
        return changes
    done_by_acting(sandbox, actor, issue)
    if "description" in changes:
        _description_note(sandbox, actor, issue, now)
    if edited:
        record("last_edited_at", hook_time(issue.last_edited_at), hook_time(now))
        record("last_edited_by_id", issue.last_edited_by_id, actor.id)
        issue.last_edited_at, issue.last_edited_by_id = now, actor.id
    # Always present, even when both fall in the same second of the hook's timestamp style.
    changes["updated_at"] = {"previous": hook_time(issue.updated_at), "current": hook_time(now)}
    record("updated_by_id", issue.updated_by_id, actor.id)
    issue.updated_at, issue.updated_by_id = now, actor.id
    action = {"closed": "close", "opened": "reopen"}[state] if "state_id" in changes else "update"
    log.info("issue %s#%s %s by %s: %s", project.path_with_namespace, issue.iid, action, actor.username, sorted(changes))
    if announce:
        events.issue_event(sandbox, project, issue, actor, action, changes)
    return changes


def _description_note(sandbox: Sandbox, actor: User, issue: Issue, now: str) -> None:
    """GitLab's system note for a new description, authored by whoever changed it: the record
    of who edited the text that no REST field of the issue itself names."""
    store = sandbox.store
    store.add("notes", Note(
        id=store.new_id("notes"), project_id=issue.project_id, issue_id=issue.id,
        body="changed the description", author_id=actor.id, created_at=now, updated_at=now,
        discussion_id=secrets.token_hex(20), system=True,
    ))


def create_issue(
    sandbox: Sandbox,
    actor: User,
    project: Project,
    title: str,
    description: str | None,
    *,
    labels: list[str],
    assignee_ids: list[int],
    confidential: bool,
    before_open: Callable[[Issue], object] | None = None,
) -> Issue:
    """A new open issue (labels created on first use), its label events, to-dos and hook.

    `before_open` runs on the saved issue before the `open` hook is built (the description's
    quick actions), so the one hook shows the resulting labels and state."""
    store = sandbox.store
    check_before_change(title, description, labels)
    now = store.now()
    issue = Issue(
        id=store.new_id("issues"),
        iid=project.next_iid,
        project_id=project.id,
        title=title,
        author_id=actor.id,
        created_at=now,
        updated_at=now,
        description=description,
        confidential=confidential,
    )
    project.next_iid += 1
    issue.label_ids = list(dict.fromkeys(ensure_label(store, project, name).id for name in labels))
    issue.assignee_ids = [i for i in dict.fromkeys(assignee_ids) if store.get("users", i)]
    store.add("issues", issue)
    _record_label_events(sandbox, actor, issue, [], issue.label_ids)
    todos_for_assignees(sandbox, actor, issue, issue.assignee_ids)
    todos_for_mentions(sandbox, actor, project, issue, description)
    if before_open is not None:
        before_open(issue)
    changes: dict[str, dict[str, Any]] = {
        key: {"previous": None, "current": value}
        for key, value in (
            ("author_id", actor.id),
            ("created_at", hook_time(now)),
            ("description", description),
            ("id", issue.id),
            ("iid", issue.iid),
            ("project_id", project.id),
            ("title", issue.title),
            ("updated_at", hook_time(issue.updated_at)),
        )
    }
    if issue.label_ids:
        changes["labels"] = {"previous": [], "current": _label_objects(sandbox, issue.label_ids)}
    log.info("issue %s#%s opened by %s", project.path_with_namespace, issue.iid, actor.username)
    events.issue_event(sandbox, project, issue, actor, "open", changes)
    return issue


def touch(sandbox: Sandbox, issue: Issue) -> None:
    """Notes and awards move the issue's `updated_at`, as in GitLab."""
    issue.updated_at = sandbox.store.now()
