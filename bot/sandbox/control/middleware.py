"""The ASGI middleware that counts, fails and throttles `/api/v4` calls as `ControlState` decides."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from bot.sandbox.control.settings import FAULT_BODIES
from bot.sandbox.control.state import ControlState

log = logging.getLogger(__name__)

API_PREFIX = "/api/v4"
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
