"""Issues: create, list (project and instance-wide, with GitLab's filters), get, update, delete.

Quick actions in a description run on create and on update, as the token's user, and are
removed from the saved text; they are part of the request's one change and one Issue Hook.
Labels and assignees need reporter access; from a guest they are silently dropped, as GitLab
does.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import (
    OWNER,
    REPORTER,
    access_level,
    can_read_issue,
    can_read_project,
    current_user,
    find_project,
    require_level,
)
from bot.sandbox.commands import run_quick_actions
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import ApiError, forbidden, invalid, not_found
from bot.sandbox.issue_service import IssueChange, create_issue
from bot.sandbox.pagination import paginate
from bot.sandbox.params import Params, read_params
from bot.sandbox.quick_actions import extract_quick_actions
from bot.sandbox.routing import record_id, route
from bot.sandbox.store import Issue, Project, User, parse_time
from bot.sandbox.todos import named_mentions
from bot.sandbox.views import issue_json, user_basic

log = logging.getLogger(__name__)


def find_issue(request: Request, user: User) -> tuple[Project, Issue]:
    """The project and issue named by the path; 404 for either when invisible to `user`."""
    store = sandbox_of(request).store
    project = find_project(store, user, request.path_params["project_id"])
    iid = record_id(request.path_params["issue_iid"])
    issue = store.issue_by_iid(project.id, iid) if iid is not None else None
    if issue is None or not can_read_issue(store, user, issue, project):
        raise not_found("Issue")
    return project, issue


def _assignee_ids(params: Params) -> list[int] | None:
    if "assignee_ids" in params:
        return params.int_list("assignee_ids") or []
    if "assignee_id" in params:
        single = params.int("assignee_id")
        return [single] if single else []
    return None


async def post_issue(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    params = await read_params(request)
    title = params.required("title")
    reporter = access_level(sandbox.store, user, project) >= REPORTER
    extracted = extract_quick_actions(params.str("description") or "")
    description = extracted.text if "description" in params else None
    issue = create_issue(
        sandbox,
        user,
        project,
        title,
        description,
        labels=(params.list("labels") or []) if reporter else [],
        assignee_ids=(_assignee_ids(params) or []) if reporter else [],
        confidential=bool(params.bool("confidential", False)),
        before_open=lambda new: run_quick_actions(sandbox, user, project, new, extracted.actions, announce=False),
    )
    return JSONResponse(issue_json(sandbox, issue), status_code=201)


async def get_issue(request: Request) -> JSONResponse:
    user = current_user(request)
    _, issue = find_issue(request, user)
    return JSONResponse(issue_json(sandbox_of(request), issue))


def _due_date(value: str | None) -> str | None:
    """GitLab takes `due_date` as a string and lets Rails cast it to a date: anything that is no
    YYYY-MM-DD date becomes none, which clears it ("" as well)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


def _change_from(params: Params, reporter: bool) -> IssueChange:
    change = IssueChange(
        title=params.str("title"),
        description=params.str("description"),
        confidential=params.bool("confidential"),
    )
    state_event = params.str("state_event")
    if state_event is not None and state_event not in ("close", "reopen"):
        raise ApiError(400, {"error": "state_event does not have a valid value"})
    change.state_event = state_event
    if reporter:
        change.due_date = _due_date(params.str("due_date"))
        change.labels = params.list("labels")
        change.add_labels = params.list("add_labels") or []
        change.remove_labels = params.list("remove_labels") or []
        change.assignee_ids = _assignee_ids(params)
    return change


async def put_issue(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    reporter = access_level(sandbox.store, user, project) >= REPORTER
    if not reporter and issue.author_id != user.id:
        raise forbidden()
    params = await read_params(request)
    change = _change_from(params, reporter)
    if change.title is not None and not change.title.strip():
        raise ApiError(400, {"error": "title is empty"})
    actions = []
    if change.description is not None:
        extracted = extract_quick_actions(change.description)
        change.description, actions = extracted.text, extracted.actions
    run_quick_actions(sandbox, user, project, issue, actions, along=change)
    return JSONResponse(issue_json(sandbox, issue))


async def delete_issue(request: Request) -> Response:
    user = current_user(request)
    store = sandbox_of(request).store
    project, issue = find_issue(request, user)
    require_level(store, user, project, OWNER)
    note_ids = {n.id for n in store.all("notes") if n.issue_id == issue.id}
    doomed = {("Issue", issue.id)} | {("Note", note_id) for note_id in note_ids}
    for award in store.all("awards"):
        if (award.awardable_type, award.awardable_id) in doomed:
            store.delete("awards", award.id)
    for table in ("notes", "label_events", "todos"):
        for record in store.all(table):
            if record.issue_id == issue.id:
                store.delete(table, record.id)
    for duplicate in store.all("issues"):   # GitLab's foreign key nullifies: ON DELETE SET NULL
        if duplicate.duplicated_to_id == issue.id:
            duplicate.duplicated_to_id = None
    store.delete("issues", issue.id)
    log.info("issue %s#%s deleted by %s", project.path_with_namespace, issue.iid, user.username)
    return Response(status_code=204)


async def participants(request: Request) -> JSONResponse:
    """Author, assignees, commenters and everyone @mentioned, as far as they may see the issue."""
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    store = sandbox.store
    ids = [issue.author_id, *issue.assignee_ids, *(u.id for u in named_mentions(sandbox, issue.description))]
    for note in store.all("notes"):
        if note.issue_id == issue.id:
            ids += [note.author_id, *(u.id for u in named_mentions(sandbox, note.body))]
    users = [store.get("users", i) for i in dict.fromkeys(ids)]
    visible = [u for u in users if u and can_read_project(store, u, project)]
    visible = [u for u in visible if can_read_issue(store, u, issue, project)]
    return JSONResponse([user_basic(sandbox, u) for u in visible])


async def closed_by(request: Request) -> JSONResponse:
    """The merge requests that close the issue when merged: the sandbox has none, so `[]`."""
    find_issue(request, current_user(request))
    return JSONResponse([])


# -- listing -----------------------------------------------------------------------------------


def _time(params: Params, name: str) -> datetime | None:
    value = params.str(name)
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise invalid(name) from None


def _label_filter(sandbox: Sandbox, params: Params) -> Callable[[Issue], bool]:
    def names(issue: Issue) -> set[str]:
        return {sandbox.store.require("labels", i).name.lower() for i in issue.label_ids}

    wanted = params.list("labels")
    unwanted = params.list("not[labels]") or []

    def keep(issue: Issue) -> bool:
        have = names(issue)
        if wanted:
            lowered = [w.lower() for w in wanted]
            if lowered == ["none"] and have:
                return False
            if lowered == ["any"] and not have:
                return False
            if lowered not in (["none"], ["any"]) and not set(lowered) <= have:
                return False
        return not (have & {u.lower() for u in unwanted})

    return keep


def _user_filter(params: Params, name: str, ids: Callable[[Issue], list[int]]) -> Callable[[Issue], bool]:
    value = params.str(name)
    if value is None:
        return lambda issue: True
    if value.lower() == "none":
        return lambda issue: not ids(issue)
    if value.lower() == "any":
        return lambda issue: bool(ids(issue))
    wanted = params.int(name)
    return lambda issue: wanted in ids(issue)


def filter_issues(sandbox: Sandbox, params: Params, issues: list[Issue]) -> list[Issue]:
    """GitLab's issue filters and ordering, shared by project and instance-wide lists."""
    state = params.str("state", "all")
    if state not in ("opened", "closed", "all"):
        raise ApiError(400, {"error": "state does not have a valid value"})
    if state != "all":
        issues = [i for i in issues if i.state == state]
    if (iids := params.int_list("iids")) is not None:
        issues = [i for i in issues if i.iid in iids]
    if search := params.str("search"):
        needle = search.lower()
        issues = [i for i in issues if needle in i.title.lower() or needle in (i.description or "").lower()]
    bounds = {
        "updated_after": ("updated_at", 1),
        "updated_before": ("updated_at", -1),
        "created_after": ("created_at", 1),
        "created_before": ("created_at", -1),
    }
    for name, (field_name, direction) in bounds.items():
        if (bound := _time(params, name)) is not None:
            issues = [
                i
                for i in issues
                if (parse_time(getattr(i, field_name)) - bound).total_seconds() * direction >= 0
            ]
    if (confidential := params.bool("confidential")) is not None:
        issues = [i for i in issues if i.confidential == confidential]
    for keep in (
        _label_filter(sandbox, params),
        _user_filter(params, "assignee_id", lambda i: i.assignee_ids),
        _user_filter(params, "author_id", lambda i: [i.author_id]),
    ):
        issues = [i for i in issues if keep(i)]
    if username := params.str("assignee_username"):
        user = sandbox.store.user_by_username(username)
        issues = [i for i in issues if user and user.id in i.assignee_ids]
    if username := params.str("author_username"):
        user = sandbox.store.user_by_username(username)
        issues = [i for i in issues if user and i.author_id == user.id]
    order_by = params.str("order_by", "created_at")
    if order_by not in ("created_at", "updated_at", "title"):
        raise ApiError(400, {"error": "order_by does not have a valid value"})
    sort = params.str("sort", "desc")
    if sort not in ("asc", "desc"):
        raise ApiError(400, {"error": "sort does not have a valid value"})
    issues.sort(key=lambda i: (getattr(i, order_by), i.id), reverse=sort == "desc")
    return issues


def _list(request: Request, params: Params, issues: list[Issue]) -> JSONResponse:
    sandbox = sandbox_of(request)
    details = bool(params.bool("with_labels_details", False))
    rows = filter_issues(sandbox, params, issues)
    return paginate(request, params, rows, lambda i: issue_json(sandbox, i, label_details=details))


async def list_project_issues(request: Request) -> JSONResponse:
    user = current_user(request)
    store = sandbox_of(request).store
    project = find_project(store, user, request.path_params["project_id"])
    params = await read_params(request)
    issues = [
        i
        for i in store.all("issues")
        if i.project_id == project.id and can_read_issue(store, user, i, project)
    ]
    return _list(request, params, issues)


async def list_all_issues(request: Request) -> JSONResponse:
    """`GET /issues`: like GitLab, only the caller's own issues unless `scope=all`."""
    user = current_user(request)
    store = sandbox_of(request).store
    params = await read_params(request)
    scope = params.str("scope", "created_by_me")
    scopes: dict[str, Callable[[Issue], bool]] = {
        "created_by_me": lambda i: i.author_id == user.id,
        "created-by-me": lambda i: i.author_id == user.id,
        "assigned_to_me": lambda i: user.id in i.assignee_ids,
        "assigned-to-me": lambda i: user.id in i.assignee_ids,
        "all": lambda i: True,
    }
    if scope not in scopes:
        raise ApiError(400, {"error": "scope does not have a valid value"})
    projects: dict[int, Any] = {}
    for project in store.all("projects"):
        if can_read_project(store, user, project):
            projects[project.id] = project
    issues = [
        i
        for i in store.all("issues")
        if i.project_id in projects
        and can_read_issue(store, user, i, projects[i.project_id])
        and scopes[scope](i)
    ]
    return _list(request, params, issues)


routes = [
    route("/issues", list_all_issues),
    route("/projects/{project_id:seg}/issues", list_project_issues),
    route("/projects/{project_id:seg}/issues", post_issue, "POST"),
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}", get_issue),
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}", put_issue, "PUT"),
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}", delete_issue, "DELETE"),
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}/participants", participants),
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}/closed_by", closed_by),
]
