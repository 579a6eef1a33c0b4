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
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import json
import logging
import random
import re
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from email.utils import formatdate
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.sandbox.delivery import HookState

log = logging.getLogger(__name__)

API_PREFIX = "/api/v4"
CONTROL_PREFIX = "/-/sandbox/"
WINDOW_SECONDS = 60
FAULT_BODIES = {
    429: "Retry later",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}


class ControlError(ValueError):
    """A control request the sandbox cannot honour (answered 400 with the message)."""


# --- Settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    statuses: dict[int, float] = field(default_factory=lambda: {500: 1.0, 502: 1.0, 429: 1.0})
    latency_ms: float = 0.0
    paths: tuple[str, ...] = ()
    seed: int | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Faults:
        _reject_unknown(body, {f for f in cls.__dataclass_fields__})
        error_rate = _number(body, "error_rate", 0.0, 0.0, 1.0)
        latency_ms = _number(body, "latency_ms", 0.0, 0.0, 60_000.0)
        statuses = body.get("statuses", {500: 1, 502: 1, 429: 1})
        if not isinstance(statuses, dict) or not statuses:
            raise ControlError("statuses must be an object of status: weight")
        weights: dict[int, float] = {}
        for status, weight in statuses.items():
            if str(status) not in {str(s) for s in FAULT_BODIES}:
                raise ControlError(f"statuses: {status} is not one of {sorted(FAULT_BODIES)}")
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
                raise ControlError(f"statuses: weight of {status} must be a number >= 0")
            weights[int(status)] = float(weight)
        if sum(weights.values()) <= 0:
            raise ControlError("statuses: at least one weight must be positive")
        paths = body.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise ControlError("paths must be a list of glob patterns")
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ControlError("seed must be an integer or null")
        return cls(error_rate, weights, latency_ms, tuple(paths), seed)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "statuses": {str(k): v for k, v in self.statuses.items()},
                "paths": list(self.paths)}

    def applies_to(self, path: str, endpoint: str) -> bool:
        return not self.paths or any(
            fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(endpoint, p) for p in self.paths)


@dataclass(frozen=True)
class RateLimits:
    authenticated_per_minute: int | None = None
    unauthenticated_per_minute: int | None = None
    issue_creations_per_minute: int | None = None
    note_creations_per_minute: int | None = None
    window: str = "fixed"

    @property
    def on(self) -> bool:
        return any(limit is not None for limit in self.limits().values())

    def limits(self) -> dict[str, int | None]:
        """Throttle name (as GitLab's `RateLimit-Name`) -> calls allowed a minute."""
        return {
            "throttle_authenticated_api": self.authenticated_per_minute,
            "throttle_unauthenticated_api": self.unauthenticated_per_minute,
            "issues_create": self.issue_creations_per_minute,
            "notes_create": self.note_creations_per_minute,
        }

    @classmethod
    def parse(cls, body: dict[str, Any]) -> RateLimits:
        _reject_unknown(body, {f for f in cls.__dataclass_fields__} | {"preset"})
        preset = body.get("preset")
        if preset not in (None, *PRESETS):
            raise ControlError(f"preset must be one of {sorted(PRESETS)}")
        values = asdict(PRESETS[preset] if preset else cls())
        for name in values:
            if name in body and name != "window":
                limit = body[name]
                if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                          or limit < 1):
                    raise ControlError(f"{name} must be a positive integer or null")
                values[name] = limit
        values["window"] = body.get("window", values["window"])
        if values["window"] not in ("fixed", "sliding"):
            raise ControlError('window must be "fixed" or "sliding"')
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PRESETS = {
    "off": RateLimits(),
    "gitlab.com": RateLimits(2000, 500, 200, 60),
}


def _reject_unknown(body: Any, known: set[str]) -> None:
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    unknown = sorted(set(body) - known)
    if unknown:
        raise ControlError(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise ControlError(f"{name} must be a number from {low:g} to {high:g}")
    return float(value)


# --- State --------------------------------------------------------------------------------------

@dataclass
class Decision:
    """What the middleware does with one call."""

    fault_status: int | None = None
    delay_ms: float = 0.0
    throttled_by: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


class ControlState:
    """Faults, rate limits and counters, shared by the middleware and the routes.

    `clock` gives Unix time (injectable, so tests move time instead of sleeping).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.faults = Faults()
        self.rate_limits = RateLimits()
        self._rng = random.Random()
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.reset_counters()

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
        log.info("sandbox faults: %s", faults.to_json())

    def set_rate_limits(self, limits: RateLimits) -> None:
        with self._lock:
            self.rate_limits = limits
            self._windows.clear()
        log.info("sandbox rate limits: %s", limits.to_json())

    def reset_counters(self) -> None:
        with self._lock:
            self._calls: dict[str, Counter[str]] = defaultdict(Counter)
            self._rate_limited: Counter[str] = Counter()
            self._injected: Counter[str] = Counter()
            self._delayed = 0
            self._delay_ms_total = 0.0

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(sum(c.values()) for c in self._calls.values()),
                "calls": {endpoint: dict(c) for endpoint, c in sorted(self._calls.items())},
                "rate_limited": dict(self._rate_limited),
                "faults": {"injected": dict(self._injected), "delayed": self._delayed,
                           "delay_ms_total": self._delay_ms_total},
            }

    def decide(self, method: str, path: str, endpoint: str, caller: str, anonymous: bool) -> Decision:
        """Faults first (as an overloaded front end would), then the rate limits."""
        with self._lock:
            decision = Decision()
            if self.faults.applies_to(path, endpoint):
                decision.delay_ms = self.faults.latency_ms
                if self.faults.error_rate and self._rng.random() < self.faults.error_rate:
                    statuses = list(self.faults.statuses)
                    weights = list(self.faults.statuses.values())
                    decision.fault_status = self._rng.choices(statuses, weights)[0]
                    self._injected[str(decision.fault_status)] += 1
                if decision.delay_ms:
                    self._delayed += 1
                    self._delay_ms_total += decision.delay_ms
            if decision.fault_status is None and self.rate_limits.on:
                self._throttle(decision, method, endpoint, caller, anonymous)
            return decision

    def _throttle(self, decision: Decision, method: str, endpoint: str, caller: str,
                  anonymous: bool) -> None:
        limits = self.rate_limits.limits()
        names = ["throttle_unauthenticated_api" if anonymous else "throttle_authenticated_api"]
        if not anonymous and method == "POST":
            if endpoint == "/projects/:id/issues":
                names.append("issues_create")
            elif endpoint.endswith("/notes"):
                names.append("notes_create")
        now = self.clock()
        for name in names:
            limit = limits[name]
            if limit is None:
                continue
            calls = self._window_calls(name, caller, now)
            allowed = len(calls) < limit
            if allowed:
                calls.append(now)
            reset = self._reset_at(calls, now)
            observed = len(calls) + (0 if allowed else 1)
            if not allowed or not decision.headers:
                decision.headers = _rate_limit_headers(name, limit, observed, reset, now)
            if not allowed:
                decision.throttled_by = name
                self._rate_limited[name] += 1
                return

    def _window_calls(self, name: str, caller: str, now: float) -> deque[float]:
        calls = self._windows[(name, caller)]
        if self.rate_limits.window == "fixed":
            window_start = now - now % WINDOW_SECONDS
            while calls and calls[0] < window_start:
                calls.popleft()
        else:
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
        return calls

    def _reset_at(self, calls: deque[float], now: float) -> float:
        if self.rate_limits.window == "fixed":
            return now - now % WINDOW_SECONDS + WINDOW_SECONDS
        return (calls[0] if calls else now) + WINDOW_SECONDS

    def count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._calls[endpoint][str(status)] += 1


def _rate_limit_headers(name: str, limit: int, observed: int, reset: float,
                        now: float) -> list[tuple[str, str]]:
    return [
        ("RateLimit-Name", name),
        ("RateLimit-Limit", str(limit)),
        ("RateLimit-Observed", str(observed)),
        ("RateLimit-Remaining", str(max(limit - observed, 0))),
        ("RateLimit-Reset", str(int(reset))),
        ("RateLimit-ResetTime", formatdate(reset, usegmt=True)),
    ]


# --- Paths --------------------------------------------------------------------------------------

_PLACEHOLDERS = {
    "projects": ":id", "groups": ":id", "users": ":id", "issues": ":iid", "notes": ":note_id",
    "award_emoji": ":award_id", "hooks": ":hook_id", "members": ":user_id", "all": ":user_id",
    "labels": ":label_id", "resource_label_events": ":event_id", "events": ":hook_log_id",
    "todos": ":id", "merge_requests": ":merge_request_iid", "uploads": ":upload_id",
    "keys": ":id", "namespaces": ":id",
}
_TOP_LEVEL_IDS = {"issues": ":id", "events": ":id"}     # `/issues/:id` outside a project


def normalise_path(raw_path: str) -> str:
    """`/api/v4/projects/group%2Fapp/issues/7/notes` -> `/projects/:id/issues/:iid/notes`.

    Take the raw (still percent-encoded) path, so that an encoded project path stays one segment.
    """
    path = raw_path.split("?", 1)[0]
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX):]
    segments = [s for s in path.split("/") if s]
    normalised: list[str] = []
    for i, segment in enumerate(segments):
        collection = segments[i - 1] if i else ""
        placeholder = (_TOP_LEVEL_IDS.get(collection) if i == 1 else None) or _PLACEHOLDERS.get(collection)
        if collection == "members" and segment == "all":
            placeholder = None
        if placeholder is None and segment.isdigit():
            placeholder = ":id"
        normalised.append(placeholder or segment)
    return "/" + "/".join(normalised)


def caller_of(scope: dict) -> tuple[str, bool]:
    """(rate-limit key, anonymous?): the token when there is one, else the client address."""
    headers = {k.lower(): v for k, v in scope.get("headers") or []}
    token = headers.get(b"private-token", b"").decode("latin-1").strip()
    if not token:
        scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
    if not token:
        query = scope.get("query_string", b"").decode("latin-1")
        match = re.search(r"(?:^|&)private_token=([^&]+)", query)
        token = match[1] if match else ""
    if token:
        return "token:" + token, False
    client = scope.get("client") or ("unknown", 0)
    return f"ip:{client[0]}", True


# --- Middleware ---------------------------------------------------------------------------------

class ControlMiddleware:
    """Pure ASGI middleware: counts `/api/v4` calls, injects faults, enforces rate limits.

    Control routes (`/-/sandbox/`) and everything outside `/api/v4` pass untouched.
    """

    def __init__(self, app: Any, state: ControlState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path")
        endpoint = normalise_path(raw.decode("latin-1") if raw else path)
        key = f"{scope['method']} {endpoint}"
        caller, anonymous = caller_of(scope)
        decision = self.state.decide(scope["method"], path, endpoint, caller, anonymous)
        if decision.delay_ms:
            await asyncio.sleep(decision.delay_ms / 1000)
        if decision.fault_status is not None:
            await self._refuse(send, decision.fault_status, [("Retry-After", "1")]
                               if decision.fault_status == 429 else [])
            self.state.count(key, decision.fault_status)
            return
        if decision.throttled_by is not None:
            log.info("sandbox rate limit %s hit by %s on %s", decision.throttled_by,
                     "anonymous caller" if anonymous else "a token", key)
            retry_after = _retry_after(decision.headers, self.state.clock())
            await self._refuse(send, 429, [("Retry-After", retry_after), *decision.headers])
            self.state.count(key, 429)
            return

        status = 500

        async def send_with_headers(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if decision.headers:
                    extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self.state.count(key, status)

    @staticmethod
    async def _refuse(send: Any, status: int, headers: list[tuple[str, str]]) -> None:
        body = json.dumps({"message": FAULT_BODIES.get(status, "Retry later")}).encode()
        raw_headers = [(b"content-type", b"application/json"),
                       (b"content-length", str(len(body)).encode()),
                       *((k.lower().encode(), v.encode()) for k, v in headers)]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


def _retry_after(headers: list[tuple[str, str]], now: float) -> str:
    reset = int(dict(headers)["RateLimit-Reset"])
    return str(max(1, reset - int(now)))


# --- Routes -------------------------------------------------------------------------------------

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
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        offset = _number(body, "offset_seconds", 0.0, -3.2e9, 3.2e9)
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


# --- Client -------------------------------------------------------------------------------------

class SandboxControl:
    """Sync client of the control surface, for tests and benches.

        control = SandboxControl(sandbox.url, sandbox.root_token)
        control.faults(error_rate=0.3, seed=1)
        control.rate_limits(preset="gitlab.com")
        control.counters()["calls"]["POST /projects/:id/issues/:iid/notes"]

    Every method raises `httpx.HTTPStatusError` when the sandbox refuses.
    """

    def __init__(self, url: str, token: str) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/") + CONTROL_PREFIX,
                                  headers={"PRIVATE-TOKEN": token}, timeout=30)

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (no arguments: faults off); returns them."""
        return self._call("PUT", "faults", settings)

    def rate_limits(self, preset: str | None = None, **limits: Any) -> dict[str, Any]:
        """Set a preset ("gitlab.com", "off") and/or numbers; returns the limits now in force."""
        return self._call("PUT", "rate-limits", {**({"preset": preset} if preset else {}), **limits})

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "counters")

    def reset_counters(self) -> dict[str, Any]:
        return self._call("DELETE", "counters")

    def pause_hook(self, hook_id: int) -> dict[str, Any]:
        return self._call("POST", f"hooks/{hook_id}/pause")

    def unpause_hook(self, hook_id: int) -> dict[str, Any]:
        return self._call("POST", f"hooks/{hook_id}/unpause")

    def shift_clock(self, seconds: float) -> dict[str, Any]:
        """Stamp what is written from now on `seconds` off the real time (0: back to it)."""
        return self._call("PUT", "clock", {"offset_seconds": seconds})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()
