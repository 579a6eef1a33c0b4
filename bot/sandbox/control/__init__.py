"""The sandbox's control surface: faults, rate limits and call counters for tests and benches.

Real GitLab fails, slows down and throttles; the bot must cope, and the tests must be able to
make it happen on purpose and repeatably. `ControlMiddleware` wraps the sandbox app and acts on
every `/api/v4` call; the routes below (administrator token required: 401 without a valid
token, 403 for anybody else) change what it does.

    GET    /-/sandbox/faults              the fault settings
    PUT    /-/sandbox/faults              {"error_rate": 0.2,                 share of calls failed
                                           "statuses": {"500": 2, "502": 1, "429": 1},  weights
                                           "latency_ms": 50,                  added to each call
                                           "paths": ["*/notes*"],             globs; [] = all
                                           "seed": 7}                         repeatable choices
                                          {} switches faults off
    GET    /-/sandbox/rate-limits         the limits
    PUT    /-/sandbox/rate-limits         {"preset": "gitlab.com"} | {"preset": "off"} | numbers:
                                          {"authenticated_per_minute": 100,    per token
                                           "unauthenticated_per_minute": 50,   per client address
                                           "issue_creations_per_minute": 10,   per token
                                           "note_creations_per_minute": 5,     per token
                                           "window": "fixed" | "sliding"}      (preset + numbers:
                                                                               numbers win)
    GET    /-/sandbox/counters            API calls: {"total", "calls": {"GET /projects/:id/
                                          issues": {"200": 3}}, "rate_limited", "faults"}
    DELETE /-/sandbox/counters            reset them
    POST   /-/sandbox/hooks/{id}/pause    drop that hook's deliveries (logged dropped_paused)
    POST   /-/sandbox/hooks/{id}/unpause
    PUT    /-/sandbox/clock               {"offset_seconds": -864000}: the time the sandbox stamps
                                          on what is written from now on (0: the real time)

The `gitlab.com` preset is GitLab.com's: 2,000 authenticated API calls a minute per user, 500
unauthenticated per address, 200 issue creations and 60 note creations a minute per user. A
throttled call gets 429 `{"message": "Retry later"}` with `Retry-After` and GitLab's
`RateLimit-*` headers, which also come on every other response while limits are on.

The parts: `settings` (what can be set), `state` (the decisions and counters), `middleware`
(acts on each call), `routes` (the admin routes), `client` (`SandboxControl`, for tests).
"""

from __future__ import annotations

from bot.sandbox.control.client import SandboxControl
from bot.sandbox.control.middleware import ControlMiddleware
from bot.sandbox.control.routes import control_routes
from bot.sandbox.control.state import ControlState

__all__ = ["ControlMiddleware", "ControlState", "SandboxControl", "control_routes"]
