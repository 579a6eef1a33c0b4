"""The admin-only `/-/sandbox/` routes that read and change the control state."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.sandbox.control.settings import ControlError, Faults, RateLimits, clock_offset
from bot.sandbox.control.state import ControlState
from bot.sandbox.delivery import HookState

log = logging.getLogger(__name__)


IsAdmin = Callable[[Request], Awaitable[bool | None] | bool | None]


def control_routes(
    is_admin: IsAdmin,
    find_hook: Callable[[int], HookState | None],
    state: ControlState,
) -> list[Route]:
    """The `/-/sandbox/` routes.

    `is_admin(request)` answers True for an administrator's token, False for another valid
    token, None when the request carries no valid token (it may also raise the sandbox's own
    401/403 error). `find_hook(id)` gives the hook or None (404).
    """

    def admin_only(endpoint: Callable[[Request], Awaitable[JSONResponse]]) -> Callable:
        async def guarded(request: Request) -> JSONResponse:
            verdict = is_admin(request)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict is None:
                return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
            if not verdict:
                return JSONResponse({"message": "403 Forbidden"}, status_code=403)
            try:
                return await endpoint(request)
            except ControlError as error:
                return JSONResponse({"message": f"400 Bad request - {error}"}, status_code=400)

        return guarded

    async def faults(request: Request) -> JSONResponse:
        if request.method == "PUT":
            state.set_faults(Faults.parse(await _json_body(request)))
        return JSONResponse(state.faults.to_json())

    async def rate_limits(request: Request) -> JSONResponse:
        if request.method == "PUT":
            state.set_rate_limits(RateLimits.parse(await _json_body(request)))
        return JSONResponse(state.rate_limits.to_json())

    async def counters(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            state.reset_counters()
        return JSONResponse(state.counters())

    def pausing(paused: bool) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            hook_id = request.path_params["id"]
            hook = find_hook(hook_id)
            if hook is None:
                return JSONResponse({"message": "404 Hook Not Found"}, status_code=404)
            hook.paused = paused
            log.info("sandbox hook %s %s", hook_id, "paused" if paused else "unpaused")
            return JSONResponse({"id": hook.id, "paused": hook.paused})

        return endpoint

    async def clock(request: Request) -> JSONResponse:
        offset = clock_offset(await _json_body(request))
        request.app.state.sandbox.store.clock.shift(timedelta(seconds=offset))
        log.info("sandbox clock moved by %+.0f s", offset)
        return JSONResponse({"offset_seconds": offset})

    return [
        Route("/-/sandbox/clock", admin_only(clock), methods=["PUT"]),
        Route("/-/sandbox/faults", admin_only(faults), methods=["GET", "PUT"]),
        Route("/-/sandbox/rate-limits", admin_only(rate_limits), methods=["GET", "PUT"]),
        Route("/-/sandbox/counters", admin_only(counters), methods=["GET", "DELETE"]),
        Route("/-/sandbox/hooks/{id:int}/pause", admin_only(pausing(True)), methods=["POST"]),
        Route("/-/sandbox/hooks/{id:int}/unpause", admin_only(pausing(False)), methods=["POST"]),
    ]


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as error:
        raise ControlError(f"the body is not JSON: {error}") from None
