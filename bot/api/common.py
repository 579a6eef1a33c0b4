"""What every /api/v1 endpoint shares: the runtime, JSON bodies, JSON errors, GitLab failures.

Errors are always JSON `{"error": <what>, "detail": <why or what to do>}` with a precise status,
so a client (or a person with curl) never has to guess from an HTML page or a bare 500.
"""

from __future__ import annotations

import json
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


async def read_json(request: Request) -> Any:
    """The JSON body, refused (413) past `server.max_body_bytes` like a webhook would be."""
    from bot.web.webhook import Refused, read_body

    try:
        body = await read_body(request, request.app.state.runtime.settings.server.max_body_bytes)
    except Refused as refused:
        raise ApiError(refused.status, refused.error, refused.detail) from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "invalid JSON", str(error)) from None


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
