"""Bearer-token check for everything under /api/v1.

One shared token (`api_token`, best given as VORHOELLE_API_TOKEN) compared in constant time.
Without a configured token the API stays closed and says how to open it (503): a generated
token would change at every restart and break every client that stored it.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api.common import ApiError
from bot.web.bearer import bearer_token, same_token

logger = logging.getLogger(__name__)

NO_TOKEN = ApiError(
    503,
    "API disabled",
    "no api_token is configured: set VORHOELLE_API_TOKEN (or api_token in the settings file) "
    "and restart the bot",
)


def check_bearer(expected: str | None, authorization: str | None) -> ApiError | None:
    """None when `authorization` carries the expected token, else the error to answer."""
    if not expected:
        return NO_TOKEN
    given = bearer_token(authorization)
    if given is None:
        return ApiError(401, "unauthorized", "send the header `Authorization: Bearer <api_token>`")
    if not same_token(given, expected):
        return ApiError(401, "unauthorized", "the bearer token is not the configured api_token")
    return None


class BearerAuth:
    """Pure ASGI middleware: the token check runs before any endpoint reads the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime = getattr(scope["app"].state, "runtime", None)
        secret = runtime.settings.api_token if runtime is not None else None
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        problem = check_bearer(secret.get_secret_value() if secret else None, headers.get("authorization"))
        if problem is None:
            await self.app(scope, receive, send)
            return
        if problem.status == 401:
            logger.warning("API call refused: %s", problem.detail,
                           extra={"event": "api_unauthorized", "path": scope.get("path")})
        response = problem.response()
        if problem.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="vorhoelle"'
        await response(scope, receive, send)
