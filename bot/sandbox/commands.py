"""Quick actions executed on an issue, with the rights of whoever wrote them.

bot/sandbox/quick_actions.py (pure text) finds and removes the lines; this module decides what
each one does. Label and assignee actions need reporter access, close/reopen/title/confidential
the author or a reporter, award and to-do anyone who sees the issue. Anything that cannot apply
(an MR action such as `/approve`, a guest's `/label`, `/close` on a closed issue) is answered
"Could not apply <name> command." and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.auth import REPORTER, access_level
from bot.sandbox.awards import find_award, give_award, revoke_award
from bot.sandbox.context import Sandbox
from bot.sandbox.issue_service import IssueChange, apply_change
from bot.sandbox.quick_actions import (
    ISSUE_EXECUTABLE,
    QuickAction,
    could_not_apply,
    parse_emoji_arg,
    parse_label_args,
    parse_user_args,
)
from bot.sandbox.store import Issue, Project, User
from bot.sandbox.todos import add_todo, pending_todo


@dataclass
class QuickActionsResult:
    """What the actions did: `summary` as GitLab words it, `commands_changes` for the 202."""

    summary: list[str] = field(default_factory=list)
    commands_changes: dict[str, Any] = field(default_factory=dict)

    @property
    def applied(self) -> bool:
        return bool(self.commands_changes)


@dataclass
class _Plan:
    change: IssueChange = field(default_factory=IssueChange)
    emoji: list[str] = field(default_factory=list)
    todo: str | None = None  # "add" | "done"


def _labels(plan: _Plan, out: QuickActionsResult, action: QuickAction, issue: Issue, sandbox: Sandbox) -> bool:
    """As GitLab: only labels that exist apply (a quick action never creates one), and
    `/unlabel` and `/relabel` need the issue to have labels."""
    command = action.command
    if command != "label" and not issue.label_ids:
        return False
    written = parse_label_args(action.args)
    if command == "unlabel" and not written:
        plan.change.labels = []
        out.summary.append("Removed all labels.")
        return True
    names = [n for n in written if sandbox.store.label_by_name(issue.project_id, n)]
    if not names:
        return False
    if command == "label":
        plan.change.add_labels += names
        out.summary.append("Added " + " ".join(f'~"{n}"' for n in names) + " label(s).")
    elif command == "unlabel":
        current = {sandbox.store.require("labels", i).name for i in issue.label_ids}
        names = [n for n in names if n in current]
        if not names:
            return False
        plan.change.remove_labels += names
        out.summary.append("Removed " + " ".join(f'~"{n}"' for n in names) + " label(s).")
    else:  # relabel
        plan.change.labels = names
        out.summary.append("Replaced all labels with " + " ".join(f'~"{n}"' for n in names) + " label(s).")
    return True


def _assignees(plan: _Plan, out: QuickActionsResult, action: QuickAction, actor: User, sandbox: Sandbox) -> bool:
    users = []
    for name in parse_user_args(action.args):
        user = actor if name == "me" else sandbox.store.user_by_username(name)
        if user:
            users.append(user)
    if action.command == "unassign" and not action.args.strip():
        plan.change.assignee_ids = []
        out.summary.append("Removed all assignees.")
        return True
    if not users:
        return False
    mentions = ", ".join(f"@{u.username}" for u in users)
    if action.command == "assign":
        plan.change.add_assignee_ids += [u.id for u in users]
        out.summary.append(f"Assigned {mentions}.")
    else:
        plan.change.remove_assignee_ids += [u.id for u in users]
        out.summary.append(f"Removed assignee {mentions}.")
    return True


def _same_project_issue(sandbox: Sandbox, project: Project, args: str) -> Issue | None:
    """The issue `#N` names in `project` (the only reference form the sandbox resolves)."""
    found = re.fullmatch(r"\s*#(\d+)\s*", args)
    if found is None:
        return None
    return next((i for i in sandbox.store.all("issues") if i.project_id == project.id and i.iid == int(found[1])), None)


def _plan_one(
    plan: _Plan, out: QuickActionsResult, action: QuickAction, sandbox: Sandbox, actor: User, project: Project, issue: Issue
) -> bool:
    """Add `action` to the plan; False when it cannot apply here."""
    command = action.command
    if action.name not in ISSUE_EXECUTABLE and command not in ISSUE_EXECUTABLE:
        return False
    reporter = access_level(sandbox.store, actor, project) >= REPORTER
    may_update = reporter or issue.author_id == actor.id
    if command in ("label", "unlabel", "relabel"):
        return reporter and _labels(plan, out, action, issue, sandbox)
    if command in ("assign", "unassign"):
        return reporter and _assignees(plan, out, action, actor, sandbox)
    if command == "close" and may_update and issue.state == "opened":
        plan.change.state_event = "close"
        out.summary.append("Closed this issue.")
        return True
    if command == "reopen" and may_update and issue.state == "closed":
        plan.change.state_event = "reopen"
        out.summary.append("Reopened this issue.")
        return True
    if command == "duplicate" and may_update and issue.state == "opened":
        original = _same_project_issue(sandbox, project, action.args)
        if original is None or original.id == issue.id:
            return False
        plan.change.state_event, plan.change.duplicated_to_id = "close", original.id
        out.summary.append(f"Closed this issue. Marked as related to, and a duplicate of, #{original.iid}.")
        return True
    if command == "title" and may_update and action.args.strip():
        plan.change.title = action.args.strip()
        out.summary.append(f'Changed the title to "{plan.change.title}".')
        return True
    if command == "confidential" and may_update and not issue.confidential:
        plan.change.confidential = True
        out.summary.append("Made this issue confidential.")
        return True
    if command == "award" and (emoji := parse_emoji_arg(action.args)):
        plan.emoji.append(emoji)
        out.summary.append(f"Toggled :{emoji}: emoji award.")
        return True
    if command in ("todo", "done"):
        has_todo = pending_todo(sandbox, actor.id, issue) is not None
        if (command == "todo") == has_todo:
            return False
        plan.todo = "add" if command == "todo" else "done"
        out.summary.append("Added a to-do item." if command == "todo" else "Marked to-do item as done.")
        return True
    return False


def _commands_changes(
    sandbox: Sandbox, project: Project, issue: Issue, change: IssueChange
) -> dict[str, Any]:
    """The change in GitLab's parameter words (`add_label_ids`, `state_event`, ...)."""

    def label_ids(names: list[str]) -> list[int]:
        labels = (sandbox.store.label_by_name(project.id, name) for name in names)
        return [label.id for label in labels if label]

    result: dict[str, Any] = {}
    if change.labels is not None:
        result["label_ids"] = label_ids(change.labels)
    if change.add_labels:
        result["add_label_ids"] = label_ids(change.add_labels)
    if change.remove_labels:
        result["remove_label_ids"] = label_ids(change.remove_labels)
    if change.assignee_ids is not None or change.add_assignee_ids or change.remove_assignee_ids:
        result["assignee_ids"] = list(issue.assignee_ids)
    for key in ("state_event", "title", "confidential"):
        if (value := getattr(change, key)) is not None:
            result[key] = value
    return result


def run_quick_actions(
    sandbox: Sandbox,
    actor: User,
    project: Project,
    issue: Issue,
    actions: list[QuickAction],
    *,
    along: IssueChange | None = None,
    announce: bool = True,
) -> QuickActionsResult:
    """Execute `actions` on `issue` as `actor`: one issue change, then awards and to-dos.

    `along` is the API's own change of the same request (an issue PUT): GitLab applies both as
    one change with one hook. `announce=False` when the change is part of a create."""
    plan, out = _Plan(), QuickActionsResult()
    for action in actions:
        if not _plan_one(plan, out, action, sandbox, actor, project, issue):
            out.summary.append(could_not_apply(action.name))
    change = plan.change if along is None else along.merged(plan.change)
    if not change.is_empty():
        apply_change(sandbox, actor, project, issue, change, announce=announce)
    if not plan.change.is_empty():
        out.commands_changes.update(_commands_changes(sandbox, project, issue, plan.change))
    for emoji in plan.emoji:
        if award := find_award(sandbox, issue, None, emoji, actor):
            revoke_award(sandbox, actor, project, issue, award)
        else:
            give_award(sandbox, actor, project, issue, emoji)
        out.commands_changes.setdefault("emoji_award", emoji)
    if plan.todo == "add":
        add_todo(sandbox, actor, actor, issue, "marked", issue.title)
        out.commands_changes["todo_event"] = "add"
    elif plan.todo == "done":
        # The same note's change (`/done /label ~x`) may have done it already: acting on an
        # issue does the actor's to-dos on it, as in GitLab.
        if todo := pending_todo(sandbox, actor.id, issue):
            todo.state, todo.updated_at = "done", sandbox.store.now()
        out.commands_changes["todo_event"] = "done"
    return out
