"""The sandbox's control surface: faults, rate limits and call counters for tests and benches.

Admin token required for every route (401 without a valid token, 403 for a non-admin).

    GET  /-/sandbox/faults              current fault settings
    PUT  /-/sandbox/faults              {"error_rate": 0.2, "statuses": {"500": 1, "502": 1,
                                         "429": 1}, "latency_ms": 50, "paths": ["*/notes"],
                                         "seed": 7}; {} switches faults off
    GET  /-/sandbox/rate-limits         current limits
    PUT  /-/sandbox/rate-limits         {"preset": "gitlab.com"} | {"preset": "off"} |
                                         {"authenticated_per_minute": 100,
                                          "issue_creations_per_minute": 10,
                                          "note_creations_per_minute": 5,
                                          "window": "sliding" | "fixed"}
    GET  /-/sandbox/counters            API calls by method, normalised path and status
    DELETE /-/sandbox/counters          reset them
    POST /-/sandbox/hooks/{id}/pause    drop this hook's deliveries (logged as dropped_paused)
    POST /-/sandbox/hooks/{id}/unpause
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from bot.sandbox.delivery import HookState


class ControlState:
    """Faults, rate limits and counters, shared by the middleware and the routes."""


class ControlMiddleware:
    """Pure ASGI middleware: counts `/api/v4` calls, injects faults, enforces rate limits."""

    def __init__(self, app: Any, state: ControlState) -> None:
        raise NotImplementedError


def control_routes(
    is_admin: Callable[[Request], Awaitable[bool] | bool],
    find_hook: Callable[[int], HookState | None],
    state: ControlState,
) -> list[Route]:
    """The `/-/sandbox/` routes. `is_admin` answers None/raises? No: it returns True for an
    admin token, False otherwise; a request without any token gets 401."""
    raise NotImplementedError


class SandboxControl:
    """Sync client of the control surface, for tests and benches."""

    def __init__(self, url: str, token: str) -> None:
        raise NotImplementedError
