"""Project webhooks (maintainers only): CRUD, the delivery log, and resending a delivery.

The secret `token` is stored but never returned. `alert_status` and `disabled_until` come from
the deliverer's bookkeeping (bot/sandbox/delivery.py): 4 failures in a row disable a hook for a
while, and events are dropped meanwhile, as on GitLab.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import MAINTAINER, current_user, find_project, require_level
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.delivery import DeliveryLog, HookState
from bot.sandbox.errors import not_found, unprocessable
from bot.sandbox.pagination import paginate
from bot.sandbox.params import Params, read_params
from bot.sandbox.routing import record_id, route
from bot.sandbox.store import Project, format_time, parse_time

log = logging.getLogger(__name__)

FLAGS = (
    "push_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "confidential_note_events",
    "emoji_events",
    "enable_ssl_verification",
)
UNSUPPORTED_FLAGS = (
    "merge_requests_events",
    "tag_push_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
    "repository_update_events",
    "feature_flag_events",
    "milestone_events",
    "resource_access_token_events",
    "resource_deploy_token_events",
)


def hook_json(hook: HookState) -> dict[str, Any]:
    return (
        {
            "id": hook.id,
            "url": hook.url,
            "name": "",
            "description": "",
            "project_id": hook.project_id,
            "created_at": format_time(hook.created_at),
            "push_events_branch_filter": "",
            "branch_filter_strategy": "wildcard",
            "alert_status": hook.alert_status(),
            "disabled_until": format_time(hook.disabled_until) if hook.disabled_until else None,
            "url_variables": [],
            "custom_webhook_template": None,
            "custom_headers": [],
        }
        | {flag: getattr(hook, flag) for flag in FLAGS}
        | {flag: False for flag in UNSUPPORTED_FLAGS}
    )


def status_text(entry: DeliveryLog) -> str | None:
    """GitLab gives a delivery's status as a string: `"200"`, or `"internal error"`."""
    return None if entry.response_status is None else str(entry.response_status)


def delivery_json(entry: DeliveryLog) -> dict[str, Any]:
    return {
        "id": entry.id,
        "url": entry.url,
        "trigger": entry.trigger,
        "request_headers": entry.request_headers,
        "request_data": entry.request_data,
        "response_headers": {},
        "response_body": entry.response_body,
        "execution_duration": entry.execution_duration,
        "response_status": status_text(entry),
        "created_at": format_time(entry.created_at),
    }


def _project(request: Request) -> tuple[Sandbox, Project]:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    require_level(sandbox.store, user, project, MAINTAINER)
    return sandbox, project


def hook_of_request(request: Request) -> tuple[Sandbox, HookState]:
    sandbox, project = _project(request)
    wanted = request.path_params["hook_id"]
    hook = sandbox.store.get("hooks", record_id(wanted))
    if hook is None or hook.project_id != project.id:
        raise not_found("Hook")
    return sandbox, hook


def _apply(hook: HookState, params: Params) -> None:
    """Check every setting, then write them all: a refused request changes nothing."""
    if (url := params.str("url")) is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise unprocessable({"url": ["is blocked: Only allowed schemes are http, https"]})
    token = params.str("token")
    flags = {flag: value for flag in FLAGS if (value := params.bool(flag)) is not None}
    if url is not None:
        hook.url = url
    if "token" in params:
        hook.token = token or None
    for flag, value in flags.items():
        setattr(hook, flag, value)


async def list_hooks(request: Request) -> JSONResponse:
    sandbox, project = _project(request)
    params = await read_params(request)
    hooks = sorted((h for h in sandbox.store.all("hooks") if h.project_id == project.id), key=lambda h: h.id)
    return paginate(request, params, hooks, hook_json)


async def get_hook(request: Request) -> JSONResponse:
    _, hook = hook_of_request(request)
    return JSONResponse(hook_json(hook))


async def post_hook(request: Request) -> JSONResponse:
    sandbox, project = _project(request)
    params = await read_params(request)
    params.required("url")
    store = sandbox.store
    hook = HookState(
        id=store.new_id("hooks"),
        project_id=project.id,
        url="",
        created_at=parse_time(store.now()),
    )
    _apply(hook, params)
    store.add("hooks", hook)
    log.info("hook %s added to %s: %s", hook.id, project.path_with_namespace, hook.url)
    return JSONResponse(hook_json(hook), status_code=201)


async def put_hook(request: Request) -> JSONResponse:
    _, hook = hook_of_request(request)
    _apply(hook, await read_params(request))
    return JSONResponse(hook_json(hook))


async def delete_hook(request: Request) -> Response:
    sandbox, hook = hook_of_request(request)
    sandbox.store.delete("hooks", hook.id)
    log.info("hook %s deleted", hook.id)
    return Response(status_code=204)


async def list_deliveries(request: Request) -> JSONResponse:
    _, hook = hook_of_request(request)
    params = await read_params(request)
    entries = sorted((e for e in hook.log if e.attempted), key=lambda e: e.id, reverse=True)
    return paginate(request, params, entries, delivery_json)


async def resend(request: Request) -> JSONResponse:
    sandbox, hook = hook_of_request(request)
    event_id = record_id(request.path_params["event_id"])
    if not any(e.id == event_id for e in hook.log if e.attempted):
        raise not_found("Hook Log")
    entry = await sandbox.deliverer.resend(hook, event_id)
    return JSONResponse({"response_status": status_text(entry)}, status_code=201)


HOOKS_PATH = "/projects/{project_id:seg}/hooks"
routes = [
    route(HOOKS_PATH, list_hooks),
    route(HOOKS_PATH, post_hook, "POST"),
    route(f"{HOOKS_PATH}/{{hook_id:seg}}", get_hook),
    route(f"{HOOKS_PATH}/{{hook_id:seg}}", put_hook, "PUT"),
    route(f"{HOOKS_PATH}/{{hook_id:seg}}", delete_hook, "DELETE"),
    route(f"{HOOKS_PATH}/{{hook_id:seg}}/events", list_deliveries),
    route(f"{HOOKS_PATH}/{{hook_id:seg}}/events/{{event_id:seg}}/resend", resend, "POST"),
]
