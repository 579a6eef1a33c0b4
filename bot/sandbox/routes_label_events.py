"""Resource label events: who added or removed which label on an issue, and when."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.sandbox.auth import current_user
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routes_issues import find_issue
from bot.sandbox.routing import route
from bot.sandbox.store import Issue, LabelEvent
from bot.sandbox.views import label_event_json


def _events(sandbox: Sandbox, issue: Issue) -> list[LabelEvent]:
    return sorted(
        (e for e in sandbox.store.all("label_events") if e.issue_id == issue.id),
        key=lambda e: e.id,
    )


async def list_label_events(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    _, issue = find_issue(request, user)
    params = await read_params(request)
    return paginate(
        request, params, _events(sandbox, issue), lambda e: label_event_json(sandbox, e)
    )


async def get_label_event(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    _, issue = find_issue(request, user)
    wanted = request.path_params["event_id"]
    event = next((e for e in _events(sandbox, issue) if str(e.id) == wanted), None)
    if event is None:
        raise not_found("Resource Label Event")
    return JSONResponse(label_event_json(sandbox, event))


_EVENTS = "/projects/{project_id:seg}/issues/{issue_iid:seg}/resource_label_events"
routes = [
    route(_EVENTS, list_label_events),
    route(f"{_EVENTS}/{{event_id:seg}}", get_label_event),
]
