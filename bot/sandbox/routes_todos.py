"""To-dos: add one for yourself on an issue (304 when you have one), list yours, mark done."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import current_user
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import ApiError, not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routes_issues import find_issue
from bot.sandbox.routing import record_id, route
from bot.sandbox.todos import add_todo, pending_todo
from bot.sandbox.views import todo_json

ACTIONS = ("assigned", "mentioned", "build_failed", "marked", "approval_required",
           "unmergeable", "directly_addressed", "merge_train_removed", "member_access_requested")


async def post_issue_todo(request: Request) -> Response:
    user = current_user(request)
    sandbox = sandbox_of(request)
    _, issue = find_issue(request, user)
    if pending_todo(sandbox, user.id, issue):
        return Response(status_code=304)
    todo = add_todo(sandbox, user, user, issue, "marked", issue.title)
    return JSONResponse(todo_json(sandbox, todo), status_code=201)


async def list_todos(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    params = await read_params(request)
    state = params.str("state", "pending")
    if state not in ("pending", "done"):
        raise ApiError(400, {"error": "state does not have a valid value"})
    action = params.str("action")
    if action is not None and action not in ACTIONS:
        raise ApiError(400, {"error": "action does not have a valid value"})
    project_id = params.int("project_id")
    todos = [
        t
        for t in sandbox.store.all("todos")
        if t.user_id == user.id
        and t.state == state
        and (action is None or t.action_name == action)
        and (project_id is None or t.project_id == project_id)
        and sandbox.store.get("issues", t.issue_id) is not None
    ]
    todos.sort(key=lambda t: t.id, reverse=True)
    return paginate(request, params, todos, lambda t: todo_json(sandbox, t))


async def mark_done(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    wanted = request.path_params["todo_id"]
    todo = sandbox.store.get("todos", record_id(wanted))
    if todo is None or todo.user_id != user.id:
        raise not_found("Todo")
    if todo.state != "done":
        todo.state, todo.updated_at = "done", sandbox.store.now()
    return JSONResponse(todo_json(sandbox, todo), status_code=201)


async def mark_all_done(request: Request) -> Response:
    user = current_user(request)
    sandbox = sandbox_of(request)
    now = sandbox.store.now()
    for todo in sandbox.store.all("todos"):
        if todo.user_id == user.id and todo.state == "pending":
            todo.state, todo.updated_at = "done", now
    return Response(status_code=204)


routes = [
    route("/projects/{project_id:seg}/issues/{issue_iid:seg}/todo", post_issue_todo, "POST"),
    route("/todos", list_todos),
    route("/todos/mark_as_done", mark_all_done, "POST"),
    route("/todos/{todo_id:seg}/mark_as_done", mark_done, "POST"),
]
