"""The sandbox GitLab as one Starlette app: REST API v4 under `/api/v4`, uploads, control surface.

`build_sandbox` makes (or reloads) the world and its administrator; `create_app` wires routes,
GitLab-shaped errors and the middleware stack:

    ControlMiddleware   fault injection, rate limits, call counters (bot/sandbox/control/)
    DeferDeliveries     webhooks go out after the response (bot/sandbox/delivery.py)
    SaveAfterWrite      `--state` file rewritten after every write
    KeepEncodedSlashes  `projects/group%2Fproject` stays one path segment
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount

from bot.sandbox import (
    routes_awards,
    routes_hook_test,
    routes_hooks,
    routes_issues,
    routes_label_events,
    routes_labels,
    routes_members,
    routes_notes,
    routes_oauth,
    routes_projects,
    routes_repository,
    routes_todos,
    routes_uploads,
    routes_users,
)
from bot.sandbox.auth import optional_user
from bot.sandbox.context import GITLAB_VERSION, Sandbox
from bot.sandbox.control import ControlMiddleware, ControlState, control_routes
from bot.sandbox.delivery import DeferDeliveries, HookDeliverer, HookState
from bot.sandbox.errors import ApiError, render_api_error
from bot.sandbox.routing import KeepEncodedSlashes, route
from bot.sandbox.routes_users import create_token, create_user
from bot.sandbox.store import StateFileError, Store

log = logging.getLogger(__name__)

API_ROUTE_MODULES = (
    routes_users,
    routes_projects,
    routes_members,
    routes_repository,
    routes_labels,
    routes_issues,
    routes_notes,
    routes_label_events,
    routes_awards,
    routes_todos,
    routes_uploads,
    routes_hooks,
    routes_hook_test,
    routes_oauth,
)


def build_sandbox(
    base_url: str, root_token: str | None = None, state_file: str | None = None
) -> tuple[Sandbox, str]:
    """The world (reloaded from `state_file` when it exists) and root's token.

    A fresh world has only `root` (id 1, administrator). A reloaded one keeps its tokens; a
    `root_token` given anyway is added to root's tokens, so both keep working.
    """
    base_url = base_url.rstrip("/")
    sandbox = Sandbox(
        store=Store(state_file),
        base_url=base_url,
        deliverer=HookDeliverer(base_url, version=GITLAB_VERSION),
        control=ControlState(),
    )
    store = sandbox.store
    if store.load():
        root = store.get("users", 1)
        if root is None:
            raise StateFileError(f"{store.state_file}: no user 1 (root, the administrator)")
        known = [t.token for t in store.all("tokens") if t.user_id == root.id]
        if root_token and root_token not in known:
            create_token(sandbox, root, "root-cli", ["api", "sudo"], root_token)
        token = root_token or known[0]
    else:
        root = create_user(sandbox, "root", "Administrator", "admin@example.com", is_admin=True)
        token = create_token(sandbox, root, "root-cli", ["api", "sudo"], root_token).token
    store.save()
    return sandbox, token


class SaveAfterWrite:
    """Pure ASGI middleware: persist the store after every request that may have changed it."""

    def __init__(self, app: Any, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            self.store.save()


async def version(request: Request) -> JSONResponse:
    return JSONResponse({"version": GITLAB_VERSION, "revision": "sandbox"})


async def metadata(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "version": GITLAB_VERSION,
            "revision": "sandbox",
            "kas": {"enabled": False, "externalUrl": None, "externalK8sProxyUrl": None, "version": None},
            "enterprise": True,
        }
    )


def is_admin(request: Request) -> bool | None:
    """For the control surface: None without a token (401), else whether root-like."""
    user = optional_user(request)
    return None if user is None else user.is_admin


async def not_found_route(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": f"{exc.status_code} {exc.detail}"}, status_code=exc.status_code)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("sandbox bug while handling %s %s", request.method, request.url.path)
    return JSONResponse({"message": "500 Internal Server Error"}, status_code=500)


def create_app(
    base_url: str, *, root_token: str | None = None, state_file: str | None = None
) -> Starlette:
    """The ASGI app serving at `base_url`; `app.state.sandbox` and `app.state.root_token`."""
    sandbox, token = build_sandbox(base_url, root_token, state_file)
    api_routes = [route("/version", version), route("/metadata", metadata)]
    for module in API_ROUTE_MODULES:
        api_routes += module.routes

    def find_hook(hook_id: int) -> HookState | None:
        return sandbox.store.get("hooks", hook_id)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info("sandbox GitLab serving at %s", sandbox.base_url)
        yield
        await sandbox.deliverer.aclose()

    app = Starlette(
        routes=[
            Mount("/api/v4", routes=api_routes),
            *control_routes(is_admin, find_hook, sandbox.control),
            *routes_oauth.web_routes,
            *routes_uploads.web_routes,
        ],
        middleware=[
            Middleware(ControlMiddleware, state=sandbox.control),
            Middleware(DeferDeliveries),
            Middleware(SaveAfterWrite, store=sandbox.store),
            Middleware(KeepEncodedSlashes),
        ],
        exception_handlers={
            ApiError: render_api_error,
            HTTPException: not_found_route,
            Exception: internal_error,
        },
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.state.root_token = token
    return app
