"""To-dos GitLab makes by itself: for new assignees and for people @mentioned; and done by itself.

Nobody gets a to-do for their own action. When someone acts on an issue (changes its labels,
assignees, title, description or state, comments, reacts with an emoji), GitLab marks that
person's pending to-dos on it done (TodoService's `resolve_todos_for_target`); nobody can mark
another person's to-do done through the API. `@all` reaches every member of the project; a
mention of someone who cannot see the issue (or does not exist) makes nothing.
"""

from __future__ import annotations

import logging

from bot.sandbox.auth import can_read_issue, can_read_project
from bot.sandbox.context import Sandbox
from bot.sandbox.quick_actions import find_mentions
from bot.sandbox.store import Issue, Project, Todo, User

log = logging.getLogger(__name__)


def pending_todo(sandbox: Sandbox, user_id: int, issue: Issue) -> Todo | None:
    return next(
        (
            t
            for t in sandbox.store.all("todos")
            if t.user_id == user_id and t.issue_id == issue.id and t.state == "pending"
        ),
        None,
    )


def add_todo(
    sandbox: Sandbox, user: User, author: User, issue: Issue, action: str, body: str
) -> Todo:
    store = sandbox.store
    todo = Todo(
        id=store.new_id("todos"),
        user_id=user.id,
        author_id=author.id,
        project_id=issue.project_id,
        issue_id=issue.id,
        action_name=action,
        body=body,
        created_at=store.now(),
    )
    log.info("to-do %s for %s: %s on issue %s", todo.id, user.username, action, issue.id)
    return store.add("todos", todo)


def done_by_acting(sandbox: Sandbox, actor: User, issue: Issue) -> None:
    """`actor` acted on `issue`: their pending to-dos on it are done."""
    now = sandbox.store.now()
    for todo in sandbox.store.all("todos"):
        if todo.user_id == actor.id and todo.issue_id == issue.id and todo.state == "pending":
            todo.state, todo.updated_at = "done", now
            log.info("to-do %s of %s done: they acted on issue %s", todo.id, actor.username, issue.id)


def todos_for_assignees(
    sandbox: Sandbox, actor: User, issue: Issue, user_ids: list[int]
) -> None:
    for user_id in user_ids:
        user = sandbox.store.get("users", user_id)
        if user and user.id != actor.id:
            add_todo(sandbox, user, actor, issue, "assigned", issue.title)


def named_mentions(sandbox: Sandbox, text: str | None) -> list[User]:
    """Users @mentioned by username in `text`; `@all` names nobody (GitLab's participants)."""
    users = (sandbox.store.user_by_username(name) for name in find_mentions(text or ""))
    return [user for user in users if user]


def _mentioned_users(sandbox: Sandbox, project: Project, text: str) -> list[tuple[str, User]]:
    store = sandbox.store
    found: list[tuple[str, User]] = []
    for name in find_mentions(text):
        if name.lower() == "all":
            members = [store.get("users", m.user_id) for m in store.all("members") if m.project_id == project.id]
            found += [("all", user) for user in members if user]
        elif user := store.user_by_username(name):
            found.append((name, user))
    return found


def todos_for_mentions(
    sandbox: Sandbox,
    actor: User,
    project: Project,
    issue: Issue,
    text: str | None,
    previous_text: str | None = None,
) -> None:
    """A to-do for everyone newly mentioned in `text` (mentions already in `previous_text`
    were handled when that text was written)."""
    if not text:
        return
    already = {user.id for _, user in _mentioned_users(sandbox, project, previous_text or "")}
    done: set[int] = set()
    for name, user in _mentioned_users(sandbox, project, text):
        if user.id in already | done or user.id == actor.id or user.state != "active":
            continue
        if not (can_read_project(sandbox.store, user, project) and can_read_issue(sandbox.store, user, issue, project)):
            continue
        done.add(user.id)
        addressed = text.lstrip().lower().startswith(f"@{name.lower()}")
        add_todo(sandbox, user, actor, issue, "directly_addressed" if addressed else "mentioned", text)
