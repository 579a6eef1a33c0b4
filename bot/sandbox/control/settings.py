"""What the control surface can be told: fault settings and rate limits, parsed and checked.

A control request that cannot be honoured raises `ControlError` (answered 400 with its message).
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_BODIES = {
    429: "Retry later",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}


class ControlError(ValueError):
    """A control request the sandbox cannot honour (answered 400 with the message)."""


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


def clock_offset(body: Any) -> float:
    """`{"offset_seconds": -864000}` (PUT /-/sandbox/clock): how far from the real time the
    sandbox stamps what is written from then on."""
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    _reject_unknown(body, {"offset_seconds"})
    return _number(body, "offset_seconds", 0.0, -3.2e9, 3.2e9)
