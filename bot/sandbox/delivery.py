"""Webhook delivery as GitLab does it: asynchronous, unretried, and switched off when it fails.

The bot must survive the real thing, so the sandbox copies what matters: the exact headers, one
ordered queue per hook, no automatic retry, temporary disabling after 4 consecutive failures
(back-off from 1 minute doubling to 24 hours, for good after 40) with events DROPPED while
disabled, manual resend keeping the `Idempotency-Key`, and recursion detection through
`X-Gitlab-Event-UUID`: a hook never fires twice in one chain.

Deliveries run on the deliverer's own event loop in a daemon thread, so `enqueue` works the same
from an async route, a sync route in Starlette's threadpool, or a plain test. Wrap the sandbox
app in `DeferDeliveries` so that events raised while handling a request go out only after its
response has been sent, and so that the request's `X-Gitlab-Event-UUID` is picked up for them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

log = logging.getLogger(__name__)

LOG_LIMIT = 500                       # delivery logs kept per hook
RESPONSE_BODY_LIMIT = 8 * 1024        # GitLab keeps 8 KB of a response body
FAILURE_THRESHOLD = 4                 # consecutive failures before a temporary disable
PERMANENT_FAILURE_THRESHOLD = 40      # ... before a permanent one
INITIAL_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=24)
CHAIN_HOOK_LIMIT = 100                # hooks one recursive chain may fire
CHAINS_REMEMBERED = 10_000

TRIGGERS = {
    "Issue Hook": ("issue_hooks", "issues_events"),
    "Confidential Issue Hook": ("confidential_issue_hooks", "confidential_issues_events"),
    "Note Hook": ("note_hooks", "note_events"),
    "Confidential Note Hook": ("confidential_note_hooks", "confidential_note_events"),
    "Emoji Hook": ("emoji_hooks", "emoji_events"),
    "Push Hook": ("push_hooks", "push_events"),
}
"""`X-Gitlab-Event` -> (the trigger name in hook logs, the hook's subscription flag)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DeliveryLog:
    """One attempt (or one event not sent), shaped like GitLab's hook event log."""

    id: int
    hook_id: int
    trigger: str                       # "issue_hooks", "note_hooks", "confidential_note_hooks", ...
    event_header: str                  # "Issue Hook", ...
    url: str
    request_headers: dict[str, str]    # X-Gitlab-Token shown as "[REDACTED]"
    request_data: dict[str, Any]
    response_status: int | str | None  # "internal error" when no HTTP answer came; None: not sent
    response_body: str
    execution_duration: float          # seconds
    created_at: datetime
    idempotency_key: str
    event_uuid: str
    outcome: str                       # delivered | failed | dropped_disabled | dropped_paused
                                       # | suppressed_recursion

    @property
    def attempted(self) -> bool:
        """Whether a request went out (GitLab's hook events API lists only these)."""
        return self.outcome in ("delivered", "failed")


@dataclass
class HookState:
    """A project hook: its settings (S1 renders them as API JSON) and its delivery bookkeeping."""

    id: int
    project_id: int
    url: str
    token: str | None = None
    issues_events: bool = False
    note_events: bool = False
    confidential_issues_events: bool = False
    confidential_note_events: bool = False
    emoji_events: bool = False
    push_events: bool = True
    enable_ssl_verification: bool = True
    created_at: datetime = field(default_factory=utc_now)
    recent_failures: int = 0
    backoff_count: int = 0
    disabled_until: datetime | None = None
    permanently_disabled: bool = False
    paused: bool = False
    log: list[DeliveryLog] = field(default_factory=list)

    def wants(self, event_header: str) -> bool:
        """Whether this hook subscribes to `event_header` ("Issue Hook", "Note Hook", ...)."""
        if event_header not in TRIGGERS:
            raise ValueError(f"unknown webhook event {event_header!r}")
        return bool(getattr(self, TRIGGERS[event_header][1]))

    def alert_status(self, now: datetime | None = None) -> str:
        """"executable" | "temporarily_disabled" | "disabled", as GitLab's hook API reports it."""
        if self.permanently_disabled:
            return "disabled"
        if self.disabled_until is not None and self.disabled_until > (now or utc_now()):
            return "temporarily_disabled"
        return "executable"

    def record_success(self) -> None:
        """A 2xx/3xx answer re-enables the hook and forgets its failures."""
        self.recent_failures = self.backoff_count = 0
        self.disabled_until = None
        self.permanently_disabled = False

    def record_failure(self, now: datetime) -> None:
        """Count a failure; from the 4th in a row, back off (1 min doubling to 24 h); at 40, stop."""
        if self.permanently_disabled:
            return
        self.recent_failures += 1
        if self.recent_failures >= PERMANENT_FAILURE_THRESHOLD:
            self.permanently_disabled, self.disabled_until = True, None
        elif self.recent_failures >= FAILURE_THRESHOLD:
            backoff = min(INITIAL_BACKOFF * 2 ** min(self.backoff_count, 20), MAX_BACKOFF)
            self.disabled_until = now + backoff
            self.backoff_count += 1

    def append_log(self, entry: DeliveryLog) -> None:
        self.log.append(entry)
        del self.log[:-LOG_LIMIT]


@dataclass
class _Delivery:
    """An event on its way to one hook."""

    hook: HookState
    event_header: str
    payload: dict[str, Any]
    event_uuid: str
    idempotency_key: str


@dataclass
class _RequestChain:
    """What `DeferDeliveries` knows about the API request being handled."""

    event_uuid: str | None
    held: list[Callable[[], None]] = field(default_factory=list)
    new_uuids: dict[int, str] = field(default_factory=dict)

    def uuid_for_hook(self, hook_id: int) -> str:
        """The request's own UUID, else one per hook shared by all its events of this request.

        GitLab's `RecursionDetection::UUID#uuid_for_hook`: the Note Hook and Issue Hook of one
        `/label` comment carry the same `X-Gitlab-Event-UUID` (but their own Idempotency-Key).
        """
        return self.event_uuid or self.new_uuids.setdefault(hook_id, str(uuid.uuid4()))


_current_request: ContextVar[_RequestChain | None] = ContextVar("sandbox_request", default=None)


class HookDeliverer:
    """Sends hook events in the background, one ordered queue per hook."""

    def __init__(
        self,
        instance_url: str,
        version: str = "17.11.1-ee",
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.user_agent = f"GitLab/{version}"
        self.timeout = timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._log_ids = itertools.count(1)
        self._chains: OrderedDict[str, set[int]] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Touched only on the delivery loop:
        self._queues: dict[int, asyncio.Queue[_Delivery]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._pending = 0
        self._idle: asyncio.Event | None = None
        self._held = 0                # events raised by requests still answering (any thread)

    # --- The public side, callable from any thread ------------------------------------------

    def enqueue(
        self,
        hook: HookState,
        event_header: str,
        payload: dict[str, Any],
        *,
        incoming_event_uuid: str | None = None,
    ) -> None:
        """Queue one event for `hook` and return at once (safe from any thread).

        `incoming_event_uuid` is the `X-Gitlab-Event-UUID` of the API request that caused the
        event; inside `DeferDeliveries` it defaults to the current request's header. A hook that
        already fired in that chain is not fired again (logged as `suppressed_recursion`).
        """
        request = _current_request.get()
        incoming = incoming_event_uuid or (request.event_uuid if request else None)
        event_uuid = incoming or (request.uuid_for_hook(hook.id) if request else str(uuid.uuid4()))
        delivery = _Delivery(hook, event_header, payload, event_uuid, str(uuid.uuid4()))
        if not self._join_chain(hook, incoming, delivery.event_uuid):
            log.info("hook %s not fired again in event chain %s (recursion)", hook.id, incoming)
            self._log_unsent(delivery, "suppressed_recursion")
            return
        if request is None:
            self._submit(delivery)
            return
        with self._lock:
            self._held += 1
        request.held.append(lambda: self._release(delivery))

    async def resend(self, hook: HookState, log_id: int) -> DeliveryLog:
        """Send a logged delivery again now: same body and Idempotency-Key, new Webhook-UUID.

        A person asked for it, so it goes out even while the hook is disabled (its answer then
        counts like any other). LookupError when the hook has no such log.
        """
        entry = next((e for e in hook.log if e.id == log_id and e.attempted), None)
        if entry is None:
            raise LookupError(f"hook {hook.id} has no delivery log {log_id}")
        delivery = _Delivery(hook, entry.event_header, entry.request_data, entry.event_uuid,
                             entry.idempotency_key)
        return await self._on_loop(self._send(delivery))

    async def test(self, hook: HookState, event_header: str, payload: dict[str, Any]) -> DeliveryLog:
        """Send a test event now, as GitLab's "Test" button does: fresh UUIDs and
        Idempotency-Key, logged like any delivery, sent even while the hook is disabled."""
        delivery = _Delivery(hook, event_header, payload, str(uuid.uuid4()), str(uuid.uuid4()))
        return await self._on_loop(self._send(delivery))

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued delivery has been attempted (TimeoutError otherwise)."""
        if self._loop is not None or self._held:
            await asyncio.wait_for(self._on_loop(self._wait_idle()), timeout)

    async def aclose(self) -> None:
        """Stop the workers and the delivery thread; queued events are abandoned."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        await self._on_loop(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 10)
        self._loop = self._thread = None

    # --- Chains and logs --------------------------------------------------------------------

    def _join_chain(self, hook: HookState, incoming: str | None, event_uuid: str) -> bool:
        """Register `hook` in the chain; False when it already fired there (or the chain is full)."""
        with self._lock:
            fired = self._chains.setdefault(event_uuid, set())
            self._chains.move_to_end(event_uuid)
            while len(self._chains) > CHAINS_REMEMBERED:
                self._chains.popitem(last=False)
            if incoming and (hook.id in fired or len(fired) >= CHAIN_HOOK_LIMIT):
                return False
            fired.add(hook.id)
            return True

    def _new_log(self, delivery: _Delivery, headers: dict[str, str], outcome: str,
                 status: int | str | None = None, body: str = "", duration: float = 0.0) -> DeliveryLog:
        with self._lock:
            log_id = next(self._log_ids)
        hook = delivery.hook
        entry = DeliveryLog(
            id=log_id, hook_id=hook.id, trigger=TRIGGERS[delivery.event_header][0],
            event_header=delivery.event_header, url=hook.url,
            request_headers={k: "[REDACTED]" if k == "X-Gitlab-Token" else v for k, v in headers.items()},
            request_data=delivery.payload, response_status=status, response_body=body,
            execution_duration=duration, created_at=self.clock(),
            idempotency_key=delivery.idempotency_key, event_uuid=delivery.event_uuid, outcome=outcome,
        )
        hook.append_log(entry)
        return entry

    def _log_unsent(self, delivery: _Delivery, outcome: str) -> DeliveryLog:
        return self._new_log(delivery, self._headers(delivery, webhook_uuid=""), outcome)

    def _headers(self, delivery: _Delivery, webhook_uuid: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "Idempotency-Key": delivery.idempotency_key,
            "X-Gitlab-Event": delivery.event_header,
            "X-Gitlab-Webhook-UUID": webhook_uuid,
            "X-Gitlab-Instance": self.instance_url,
            "X-Gitlab-Event-UUID": delivery.event_uuid,
        }
        if delivery.hook.token:
            headers["X-Gitlab-Token"] = delivery.hook.token
        return headers

    # --- The delivery loop ------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="sandbox webhooks",
                                          daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _on_loop(self, coroutine: Any) -> Any:
        """Run `coroutine` on the delivery loop and await it from the caller's loop."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop())
        return await asyncio.wrap_future(future)

    def _submit(self, delivery: _Delivery, *, held: bool = False) -> None:
        self._ensure_loop().call_soon_threadsafe(self._put, delivery, held)

    def _release(self, delivery: _Delivery) -> None:
        self._submit(delivery, held=True)

    def _put(self, delivery: _Delivery, held: bool) -> None:
        """Queue `delivery` (on the loop, so that `_wait_idle` never sees it in neither count)."""
        hook_id = delivery.hook.id
        if hook_id not in self._queues:
            self._queues[hook_id] = asyncio.Queue()
            self._workers[hook_id] = asyncio.create_task(self._work(self._queues[hook_id]))
        self._pending += 1
        if held:
            with self._lock:
                self._held -= 1
        self._idle_event().clear()
        self._queues[hook_id].put_nowait(delivery)

    async def _work(self, queue: asyncio.Queue[_Delivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._deliver(delivery)
            except Exception:
                log.exception("webhook delivery to hook %s crashed", delivery.hook.id)
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._idle_event().set()

    async def _deliver(self, delivery: _Delivery) -> None:
        hook = delivery.hook
        if hook.paused:
            self._log_unsent(delivery, "dropped_paused")
        elif hook.alert_status(self.clock()) != "executable":
            log.info("hook %s is %s: %s dropped", hook.id, hook.alert_status(self.clock()),
                     delivery.event_header)
            self._log_unsent(delivery, "dropped_disabled")
        else:
            await self._send(delivery)

    async def _send(self, delivery: _Delivery) -> DeliveryLog:
        """POST once, log it, and count the answer towards the hook's (dis)abling."""
        hook = delivery.hook
        headers = self._headers(delivery, webhook_uuid=str(uuid.uuid4()))
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        started = time.perf_counter()
        try:
            response = await self._client(hook.enable_ssl_verification).post(
                hook.url, content=body, headers=headers)
            status: int | str = response.status_code
            answer = response.text[:RESPONSE_BODY_LIMIT]
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            status, answer = "internal error", str(error) or type(error).__name__
        duration = time.perf_counter() - started
        ok = isinstance(status, int) and 200 <= status < 400
        if ok:
            hook.record_success()
        else:
            hook.record_failure(self.clock())
        entry = self._new_log(delivery, headers, "delivered" if ok else "failed", status, answer,
                              duration)
        log.info("hook %s %s -> %s: %s in %.3fs%s", hook.id, delivery.event_header, hook.url,
                 status, duration, "" if ok else f" ({hook.recent_failures} failures in a row, "
                 f"{hook.alert_status(self.clock())})")
        return entry

    def _client(self, verify: bool) -> httpx.AsyncClient:
        if verify not in self._clients:
            self._clients[verify] = httpx.AsyncClient(
                timeout=self.timeout, verify=verify, follow_redirects=False)
        return self._clients[verify]

    def _idle_event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def _wait_idle(self) -> None:
        """Until nothing is queued, in flight, or held by a request that is still answering."""
        while True:
            await self._idle_event().wait()
            if self._held == 0 and self._pending == 0:
                return
            await asyncio.sleep(0.005)

    async def _shutdown(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        for client in self._clients.values():
            await client.aclose()
        self._queues.clear()
        self._workers.clear()
        self._clients.clear()
        self._pending = 0
        self._idle = None


class DeferDeliveries:
    """ASGI middleware: hold events raised during a request until its response is sent.

    GitLab delivers hooks after the API call that caused them returned; a bot that reads the
    issue when the event arrives must find the change already answered. The request's
    `X-Gitlab-Event-UUID` (if any) becomes the chain of the events it causes.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-gitlab-event-uuid", b"").decode("latin-1").strip() or None
        request = _RequestChain(incoming)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                for submit in request.held:
                    submit()

        async def send_then_release(message: dict) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                release()

        token = _current_request.set(request)
        try:
            await self.app(scope, receive, send_then_release)
        finally:
            _current_request.reset(token)
            release()
