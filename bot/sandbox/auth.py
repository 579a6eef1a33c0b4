"""Who is calling and what they may do, with GitLab's access levels and answers.

A token comes as `PRIVATE-TOKEN`, `Authorization: Bearer` or `?private_token=`. Unknown tokens
get 401, blocked users 403. A private project the caller cannot see answers 404, not 403, as
GitLab does, so that its existence does not leak.
"""

from __future__ import annotations

from starlette.requests import Request

from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import forbidden, not_found, unauthorized
from bot.sandbox.routing import record_id
from bot.sandbox.store import Issue, Project, Store, User

GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50
ACCESS_LEVELS = (5, GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER)


def token_of(request: Request) -> str | None:
    token = request.headers.get("private-token") or request.query_params.get("private_token")
    if token:
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request) -> User | None:
    """The caller, None without a token; 401 for a wrong token, 403 when blocked."""
    token = token_of(request)
    if token is None:
        return None
    user = sandbox_of(request).store.user_by_token(token)
    if user is None:
        raise unauthorized()
    if user.state == "blocked":
        raise forbidden("Your account has been blocked.")
    return user


def current_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise unauthorized()
    return user


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise forbidden()


def access_level(store: Store, user: User | None, project: Project) -> int:
    """Effective level; administrators act as owners everywhere."""
    if user is None:
        return 0
    if user.is_admin:
        return OWNER
    member = store.member(project.id, user.id)
    return member.access_level if member else 0


def can_read_project(store: Store, user: User | None, project: Project) -> bool:
    if project.visibility == "public":
        return True
    if project.visibility == "internal":
        return user is not None
    return access_level(store, user, project) >= GUEST


def find_project(store: Store, user: User | None, ref: str) -> Project:
    """A project by numeric id or `namespace/path`; 404 when missing or invisible."""
    number = record_id(ref)
    project = store.get("projects", number) if number is not None else store.project_by_path(ref)
    if project is None or not can_read_project(store, user, project):
        raise not_found("Project")
    return project


def require_level(store: Store, user: User, project: Project, level: int) -> None:
    if access_level(store, user, project) < level:
        raise forbidden()


def can_read_issue(store: Store, user: User | None, issue: Issue, project: Project) -> bool:
    """Confidential issues: reporters and up, the author and the assignees only."""
    if not issue.confidential:
        return True
    if user is None:
        return False
    return (
        access_level(store, user, project) >= REPORTER
        or issue.author_id == user.id
        or user.id in issue.assignee_ids
    )
