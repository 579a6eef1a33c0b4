"""What every /api/v1 endpoint shares: the runtime, JSON bodies, JSON errors, GitLab failures.

Errors are always JSON `{"error": <what>, "detail": <why or what to do>}` with a precise status,
so a client (or a person with curl) never has to guess from an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.runtime import Runtime

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success; raised anywhere below an endpoint, turned into JSON once."""

    def __init__(self, status: int, error: str, detail: Any = None, **extra: Any) -> None:
        super().__init__(error)
        self.status, self.error, self.detail, self.extra = status, error, detail, extra

    def response(self) -> JSONResponse:
        body = {"error": self.error, **({"detail": self.detail} if self.detail is not None else {})}
        return JSONResponse({**body, **self.extra}, status_code=self.status)


def runtime_of(request: Request) -> Runtime:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None or runtime.gitlab is None:
        raise ApiError(503, "not connected to GitLab", "start the bot with gitlab_url, gitlab_token and project set")
    return runtime


MAX_JSON_DEPTH = 32  # a match or a settings file is a handful of levels deep


async def read_json(request: Request) -> Any:
    """The JSON body, refused (413) past `server.max_body_bytes` like a webhook would be, and
    (400) when it is not JSON or nested deeper than `MAX_JSON_DEPTH`: the validation and YAML
    writing behind the endpoints recurse, and must not run out of stack on a crafted body."""
    from bot.web.webhook import Refused, parse_json, read_body

    try:
        body = await read_body(request, request.app.state.runtime.settings.server.max_body_bytes)
    except Refused as refused:
        raise ApiError(refused.status, refused.error, refused.detail) from None
    try:
        value = parse_json(body)
    except Refused as refused:
        raise ApiError(400, "invalid JSON", refused.detail) from None
    if depth_over(value, MAX_JSON_DEPTH):
        raise ApiError(400, "invalid JSON", f"nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` deep (walked without recursion)."""
    containers = (dict, list)
    stack = [(value, 1)] if isinstance(value, containers) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, containers))
    return False


def gitlab_failure(error: Exception) -> ApiError:
    """GitLab said no for good: its 404 is ours, anything else is a bad gateway."""
    status = getattr(error, "status", 0)
    message = getattr(error, "message", str(error))
    if status == 404:
        return ApiError(404, "not found", message)
    logger.warning("GitLab call failed: %s", error, extra={"event": "api_gitlab_error", "status": status})
    return ApiError(503 if status in (0, 429) else 502, "GitLab failed", message)


Endpoint = Callable[[Request], Awaitable[Response]]


def json_endpoint(handler: Endpoint) -> Endpoint:
    """Turn ApiError and GitLabError raised by `handler` into their JSON answers."""
    from bot.gitlab_access import GitLabError

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()
        except GitLabError as error:
            return gitlab_failure(error).response()

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
