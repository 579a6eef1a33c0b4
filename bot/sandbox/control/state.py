"""The control surface's shared state: faults, rate-limit windows and call counters.

The middleware asks `ControlState.decide` about every API call; the admin routes change it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from bot.sandbox.control.settings import Faults, RateLimits

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


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
