"""`POST /webhook`: GitLab's deliveries in, "queued" or "ignored" out, within milliseconds.

A delivery is only a hint that one issue changed; the converge that follows reads the issue
afresh. So the receiver checks who sent it and whether it is well formed, asks the handler for
that event kind what it means, queues the issue, and answers 2xx — also for events it ignores,
because GitLab counts any 4xx as a failure and disables a hook after four of them. It never
waits for GitLab, except once to learn who the bot is.

Errors are JSON `{"error": ..., "detail": ...}`: 401 bad or missing token (or signature), 413
too large, 400 not a JSON object, 503 while shutting down.

Every delivery passes here, so the receiver is a plain ASGI app (`Receiver`) that the app calls
before its middleware and router (bot/web/app.py `BotApp`): it reads the headers once, the body
from the ASGI messages and answers with two messages of its own, where Starlette's middleware,
routing, its Request and Response objects and the wrapper around a function endpoint cost about
as much as the checks themselves (bench/README.md has the figures).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import msgspec
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

import bot.handlers  # noqa: F401 - importing the package registers every handler on the router
from bot import metrics
from bot.logs import hot_line, trace_in, tracing
from bot.config import project_file
from bot.queue import Hint
from bot.web.receipts import Receipts
from bot.runtime import Runtime
from bot.handlers.router import Converge, Decision, HookContext, Ignore, ReloadSettings, router

log = logging.getLogger(__name__)

RECENT_KEYS = 4096
RawHeaders = Mapping[bytes, bytes]
TOO_DEEP = "nested too deeply to parse; no JSON the bot reads is more than a few levels deep"


class Refused(Exception):
    def __init__(self, status: int, error: str, detail: Any = None, outcome: str = "invalid"):
        super().__init__(error)
        self.status, self.error, self.detail, self.outcome = status, error, detail, outcome


class RecentKeys:
    """The last `size` Idempotency-Keys seen: a manual resend of one delivery is dropped cheaply.
    Only a shortcut — a converge that runs twice changes nothing the second time."""

    def __init__(self, size: int = RECENT_KEYS):
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._size = size

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        """(A key added twice keeps its first place: both deliveries passed meanwhile.)"""
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)

    def clear(self) -> None:
        self._keys.clear()


@dataclass
class ReceiverState:
    recent: RecentKeys = field(default_factory=RecentKeys)
    stats: collections.Counter[str] = field(default_factory=collections.Counter)    # answers by outcome
    ignored: collections.Counter[str] = field(default_factory=collections.Counter)  # by reason
    receipts: Receipts = field(default_factory=Receipts)
    context: HookContext | None = None
    reloads: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def deliveries(self) -> int:
        """Deliveries answered so far."""
        return sum(self.stats.values())


def receiver_state(app: Starlette) -> ReceiverState:
    """What the app's receiver has seen (counts, receipts)."""
    return app.receiver.state  # type: ignore[attr-defined]  # bot/web/app.py::BotApp


def hook_context(runtime: Runtime) -> HookContext:
    """What handlers must know about the bot; asks GitLab (once) who the bot and project are."""
    workflow = runtime.settings.workflow
    return HookContext(
        project_id=runtime.gitlab.project.id,
        bot_user_id=runtime.gitlab.bot_user.id,
        bot_username=runtime.gitlab.bot_user.username,
        watched_labels=frozenset({workflow.marker_label, *(s.label for s in workflow.states.values())}),
        handle_confidential=workflow.confidential.handle,
        emoji_enabled=workflow.emoji.enabled,
        emoji_names=frozenset({workflow.emoji.approve, workflow.emoji.reject}),
    )


def check_token(given: bytes | None, runtime: Runtime) -> None:
    """`given`: the X-Gitlab-Token header."""
    secret = runtime.settings.webhook_secret
    if secret is None:
        raise Refused(401, "the bot has no webhook secret", "set VORHOELLE_WEBHOOK_SECRET and run "
                      "`vorhoelle hook install`", outcome="unauthorized")
    if not given:  # an empty header is no token, whatever the secret
        raise Refused(401, "missing X-Gitlab-Token", outcome="unauthorized")
    if not hmac.compare_digest(given, secret.get_secret_value().encode()):
        raise Refused(401, "wrong X-Gitlab-Token", outcome="unauthorized")


def check_signature(headers: RawHeaders, body: bytes, runtime: Runtime) -> None:
    """GitLab's optional signing (Standard Webhooks): `webhook-signature: v1,<base64 HMAC-SHA256
    of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the base64 part of `whsec_…`.
    Checked only when a key is configured; then it is required. A replayed signed delivery is
    harmless (converge is idempotent), so the timestamp is not checked for age."""
    key = runtime.settings.webhook_signing_key
    if key is None:
        return
    names = (b"webhook-id", b"webhook-timestamp", b"webhook-signature")
    msg_id, timestamp, signatures = (header(headers, name) for name in names)
    if not (msg_id and timestamp and signatures):
        raise Refused(401, "missing webhook signature", f"expected headers {b', '.join(names).decode()}",
                      outcome="unauthorized")
    try:
        secret = base64.b64decode(key.get_secret_value().removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise Refused(503, "the bot's webhook_signing_key is not whsec_<base64>",
                      "fix the setting; catch-up covers what is missed", outcome="unavailable") from None
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    offered = [sig for version, _, sig in (p.partition(",") for p in signatures.split()) if version == "v1"]
    if not any(hmac.compare_digest(sig.encode(), expected.encode()) for sig in offered):
        raise Refused(401, "webhook-signature does not match", outcome="unauthorized")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` — from its
    Content-Length, or while it streams in when the length is missing."""
    return await read_messages(request.receive, request.headers.get("content-length"), limit)


async def read_messages(receive: Receive, declared: str | bytes | None, limit: int) -> bytes:
    """`read_body` from the ASGI messages themselves (Request.stream() is an async generator,
    dearer per call); `declared`: the Content-Length header."""
    if isinstance(declared, bytes):
        declared = declared.decode("latin-1")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "Content-Length is not a number", declared)
        if (length := int(declared)) > limit:
            raise Refused(413, "body too large", {"limit_bytes": limit, "content_length": length})
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "the client went away before the whole body arrived")
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body too large", {"limit_bytes": limit})
        if not (more or chunks):   # the whole body in one message, as a server gives a webhook's
            return chunk
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON in `body`, or Refused(400) saying why not. Nesting deep enough to exhaust the
    parser's recursion (a few hundred bytes of `[`) is refused, not a 500."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise Refused(400, "body is not valid JSON", str(error)) from None
    except RecursionError:
        raise Refused(400, "body is nested too deeply", TOO_DEEP) from None


def parse_payload(body: bytes) -> dict[str, Any]:
    """A webhook's JSON object, parsed by orjson (a quarter of the standard library's time), or
    Refused(400) saying why not: for the events no handler reads, and for the precise reason a
    body the handlers' decoding failed on is not JSON. Stricter than `parse_json` (the API's) in
    one way that no GitLab payload meets: a lone surrogate escape is invalid JSON here."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise Refused(400, "body is nested too deeply", TOO_DEEP) from None
        raise Refused(400, "body is not valid JSON", str(error)) from None
    if not isinstance(payload, dict):
        raise Refused(400, "body must be a JSON object", f"got {type(payload).__name__}")
    return payload


def decide(delivery: Delivery, body: bytes, context: HookContext) -> Decision:
    """What the handler for the delivery's event decides on its body (bot/handlers/router.py),
    or Refused(400) for a body that is not a JSON object, whatever the event. A handler's bug
    is logged and the delivery ignored: it must not turn into failures that make GitLab disable
    the hook, and catch-up covers the issue."""
    event = delivery.event
    if not router.handles(event) or body.lstrip()[:1] != b"{":
        parse_payload(body)   # only the handlers' events are decoded; any other body is checked
    try:
        return router.decide(event, body, context)
    except (msgspec.DecodeError, RecursionError) as error:   # not JSON, or nested too deeply
        parse_payload(body)   # says why, in the words every other body gets
        return Ignore(f"the payload could not be read: {error}")
    except Exception:
        log.exception("the %s handler failed", event, extra={"event": event, "idempotency_key": delivery.key})
        return Ignore("the handler failed on this payload (logged); catch-up covers the issue")


async def context_for(state: ReceiverState, runtime: Runtime) -> HookContext:
    if state.context is None:
        try:
            state.context = await asyncio.to_thread(hook_context, runtime)
        except Exception as error:
            raise Refused(503, "GitLab is not reachable to learn who the bot is", str(error),
                          outcome="unavailable") from None
    return state.context


async def reload_settings(state: ReceiverState, runtime: Runtime) -> None:
    await asyncio.to_thread(project_file.reload, runtime)
    state.context = None  # the labels and emoji handlers watch may have changed


def header_map(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, as ASGI gives them, read once (each
    `Headers.get` scans the whole list again, and decoding every header costs more than reading
    the few the receiver uses). The first of a repeated header wins, as with `Headers.get`."""
    return dict(reversed(scope["headers"]))


def header(headers: RawHeaders, name: bytes) -> str | None:
    """One header's value as text (HTTP headers are Latin-1); `name` as ASGI spells it."""
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


class Delivery(msgspec.Struct, gc=False):
    """What the receiver reads of a request's headers before its body. The token is kept apart
    from the other headers, so that what keeps the headers (the receipts) never keeps it. (This
    and `Answer` are msgspec Structs: made for every delivery, in a third of a dataclass's time.)"""

    headers: RawHeaders   # all but X-Gitlab-Token
    token: bytes | None   # X-Gitlab-Token
    event: str            # X-Gitlab-Event, "" without one
    key: str | None       # Idempotency-Key
    trace: str | None     # the trace its headers name (bot/logs.py)

    @classmethod
    def of(cls, scope: Scope) -> Delivery:
        headers = header_map(scope)
        token = headers.pop(b"x-gitlab-token", None)
        traced = b"x-cloud-trace-context" in headers or b"traceparent" in headers   # GitLab sends neither
        return cls(headers, token, header(headers, b"x-gitlab-event") or "", header(headers, b"idempotency-key"),
                   trace_in(headers.items()) if traced else None)


class Answer(msgspec.Struct, gc=False):
    status: int
    outcome: str   # the metric's and the log line's word for it: queued, ignored, unauthorized, …
    body: dict[str, Any]
    issue: int | None = None


class Receiver:
    """`POST /webhook` as a plain ASGI app, one per bot app, which keeps what it has seen
    (`state`). The app hands it its deliveries before its middleware and router (bot/web/app.py
    `BotApp`), so the receiver answers its own bugs (500 in JSON, as the rest of the app does) and
    files its lines under the request's trace itself."""

    def __init__(self, runtime: Runtime, app_state: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.app_state = app_state   # what `app.state` holds: `draining`, set on SIGTERM and when the lifespan ends
        self.state = ReceiverState()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        delivery = Delivery.of(scope)
        if delivery.trace is None:   # GitLab's deliveries carry none
            given = await self.given(delivery, receive)
        else:
            with tracing(delivery.trace):
                given = await self.given(delivery, receive)
        content = orjson.dumps(given.body)   # compact JSON, as JSONResponse renders it, in a fraction of the time
        await send({"type": "http.response.start", "status": given.status, "headers": [
            (b"content-length", str(len(content)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": content})

    async def given(self, delivery: Delivery, receive: Receive) -> Answer:
        """The answer to the delivery, noted (counted, its receipt kept, its line logged)."""
        runtime, state = self.runtime, self.state
        try:
            given = self.before_body(delivery)
            if given is None:
                body = await read_messages(receive, delivery.headers.get(b"content-length"),
                                           runtime.settings.server.max_body_bytes)
                check_signature(delivery.headers, body, runtime)
                given = self.answer(delivery, body, state.context or await context_for(state, runtime))
        except Refused as refused:
            given = Answer(refused.status, refused.outcome, {"error": refused.error, "detail": refused.detail})
        except Exception as error:
            log.exception("the receiver failed on a delivery",
                          extra={"event": delivery.event, "idempotency_key": delivery.key})
            given = Answer(500, "error", {"error": "internal error", "detail": type(error).__name__})
        self.note(delivery, given)
        return given

    def before_body(self, delivery: Delivery) -> Answer | None:
        """The answer the headers alone decide (Refused: 503 while shutting down, 401 without the
        token; the 202 of a duplicate), or None: the body is to be read."""
        if self.app_state.get("draining", False) or not self.runtime.hints.accepting:
            raise Refused(503, "shutting down", "catch-up will cover this event after the restart",
                          outcome="unavailable")
        check_token(delivery.token, self.runtime)
        if delivery.key is not None and delivery.key in self.state.recent:
            metrics.DUPLICATES_DROPPED.inc()
            return Answer(202, "duplicate", {"status": "duplicate", "reason": "this Idempotency-Key was already handled"})
        return None

    def answer(self, delivery: Delivery, body: bytes, context: HookContext) -> Answer:
        """What the receiver answers a delivery it has read, having queued its issue when it
        changed one (Refused: a body that is not a JSON object)."""
        state, key = self.state, delivery.key
        decision = decide(delivery, body, context)
        if key is not None:
            state.recent.add(key)
        if isinstance(decision, ReloadSettings):
            reload = asyncio.create_task(reload_settings(state, self.runtime))
            state.reloads.add(reload)
            reload.add_done_callback(state.reloads.discard)
            return Answer(202, "reloading", {"status": "reloading", "reason": decision.reason})
        if not isinstance(decision, Converge):
            return Answer(202, "ignored", {"status": "ignored", "reason": decision.reason})
        self.runtime.hints.hint(Hint(decision.iid, delivery.event, header(delivery.headers, b"x-gitlab-event-uuid"), key))
        return Answer(202, "queued", {"status": "queued", "issue": decision.iid, "reason": decision.reason},
                      issue=decision.iid)

    def note(self, delivery: Delivery, given: Answer) -> None:
        """Count the answer, keep its receipt and log its one line."""
        state, event = self.state, delivery.event
        state.stats[given.outcome] += 1
        reason = given.body.get("reason") or given.body.get("error")
        if given.outcome == "ignored":
            state.ignored[given.body["reason"]] += 1
        metrics.delivery(event if router.handles(event) else "other", given.outcome)
        state.receipts.add(delivery.headers, given.status, str(given.body.get("status") or given.body["error"]))
        hot_line(log, logging.INFO, f"webhook {event or '(no X-Gitlab-Event)'}: {given.outcome}"
                                    f"{f' ({reason})' if reason else ''}",
                 {"event": event, "issue": given.issue, "idempotency_key": delivery.key, "outcome": given.outcome})


PATH = "/webhook"


class ToTheAppsReceiver:
    """The webhook route's endpoint. `BotApp` hands every `POST /webhook` to its receiver before
    the router sees it; the route is there for what the router answers itself (405 to a GET),
    and passes a POST that reaches it all the same to the app's receiver."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["app"].receiver(scope, receive, send)


def routes() -> list[BaseRoute]:
    return [Route(PATH, ToTheAppsReceiver(), methods=["POST"])]
