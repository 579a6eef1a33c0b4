"""GitLab's error bodies, raised from anywhere in a route and rendered in one handler.

GitLab answers `{"message": "404 Issue Not Found"}` for missing things, `{"error": "title is
missing"}` for missing parameters (Grape's validation), and `{"message": {...}}` for model
validation (422). Clients such as python-gitlab turn the status into an exception class and
show the body, so both must match what GitLab sends.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    """An HTTP error with a GitLab-shaped JSON body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, {"message": f"404 {what} Not Found"})


def missing(name: str) -> ApiError:
    return ApiError(400, {"error": f"{name} is missing"})


def invalid(name: str) -> ApiError:
    return ApiError(400, {"error": f"{name} is invalid"})


def bad_request(message: Any) -> ApiError:
    return ApiError(400, {"message": message})


def unprocessable(message: Any) -> ApiError:
    return ApiError(422, {"message": message})


def conflict(message: str) -> ApiError:
    return ApiError(409, {"message": message})


def forbidden(reason: str = "") -> ApiError:
    return ApiError(403, {"message": "403 Forbidden" + (f" - {reason}" if reason else "")})


def unauthorized() -> ApiError:
    return ApiError(401, {"message": "401 Unauthorized"})


async def render_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
