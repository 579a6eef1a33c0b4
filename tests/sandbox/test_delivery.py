"""Webhook delivery against a real HTTP receiver: headers, order, failures, recursion, resend."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.sandbox.delivery import DeferDeliveries, HookDeliverer, HookState
from tests.sandbox.serving import serving
from tests.support.waiting import wait_until

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INSTANCE = "https://gitlab.example.com"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Receiver:
    """A webhook endpoint that records every request; `answers[path]` scripts its statuses."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    hold: dict[str, threading.Event] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path in state.hold:
                state.hold[self.path].wait(10)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            state.arrived.set()
            script = state.answers.get(self.path, [])
            status = script.pop(0) if len(script) > 1 else (script[0] if script else 200)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/redirected")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # see serving.py
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deliverer(clock: Clock) -> Iterator[HookDeliverer]:
    running = HookDeliverer(INSTANCE, timeout=5.0, clock=clock)
    yield running
    asyncio.run(running.aclose())


def hook_to(receiver: Receiver, path: str, hook_id: int = 1, **settings) -> HookState:
    return HookState(id=hook_id, project_id=7, url=f"{receiver.url}{path}", issues_events=True,
                     note_events=True, **settings)


def drain(deliverer: HookDeliverer) -> None:
    asyncio.run(deliverer.drain(timeout=20))


def issue_event(n: int = 1) -> dict:
    return {"object_kind": "issue", "object_attributes": {"iid": n, "action": "update"}}


def test_headers_are_gitlab_s(receiver, deliverer):
    hook = hook_to(receiver, "/hook", token="s3cret")
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    [request] = receiver.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "GitLab/17.11.1-ee"
    assert headers["X-Gitlab-Event"] == "Issue Hook"
    assert headers["X-Gitlab-Instance"] == INSTANCE
    assert headers["X-Gitlab-Token"] == "s3cret"
    for name in ("X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID", "Idempotency-Key"):
        assert UUID.match(headers[name]), name
    assert len({headers["X-Gitlab-Webhook-UUID"], headers["X-Gitlab-Event-UUID"],
                headers["Idempotency-Key"]}) == 3
    assert request.body == issue_event()
    [entry] = hook.log
    assert entry.outcome == "delivered" and entry.response_status == 200
    assert entry.trigger == "issue_hooks"
    assert entry.request_headers["X-Gitlab-Token"] == "[REDACTED]"
    assert entry.idempotency_key == headers["Idempotency-Key"]


def test_token_header_only_with_a_token(receiver, deliverer):
    deliverer.enqueue(hook_to(receiver, "/hook"), "Note Hook", {"object_kind": "note"})
    drain(deliverer)
    [request] = receiver.requests
    assert "X-Gitlab-Token" not in request.headers
    assert request.headers["X-Gitlab-Event"] == "Note Hook"


def test_each_event_gets_its_own_keys(receiver, deliverer):
    hook = hook_to(receiver, "/hook")
    deliverer.enqueue(hook, "Issue Hook", issue_event(1))
    deliverer.enqueue(hook, "Issue Hook", issue_event(2))
    drain(deliverer)
    first, second = (r.headers for r in receiver.requests)
    for name in ("X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID", "Idempotency-Key"):
        assert first[name] != second[name]


def test_one_hook_in_order_while_hooks_run_in_parallel(receiver, deliverer):
    slow, fast = hook_to(receiver, "/slow", 1), hook_to(receiver, "/fast", 2)
    receiver.hold["/slow"] = threading.Event()
    for n in range(1, 11):
        deliverer.enqueue(slow, "Issue Hook", issue_event(n))
    deliverer.enqueue(fast, "Issue Hook", issue_event(99))
    # /slow's first request is held until /fast has been delivered: a shared queue would hang.
    wait_until(lambda: receiver.at("/fast"), message="the other hook's delivery")
    receiver.hold["/slow"].set()
    drain(deliverer)
    assert [r.body["object_attributes"]["iid"] for r in receiver.at("/slow")] == list(range(1, 11))


def test_a_failure_is_not_retried(receiver, deliverer):
    receiver.answers["/hook"] = [500]
    hook = hook_to(receiver, "/hook")
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    assert len(receiver.requests) == 1
    assert [(e.outcome, e.response_status) for e in hook.log] == [("failed", 500)]
    assert hook.recent_failures == 1 and hook.alert_status() == "executable"


def test_redirects_count_as_success_and_are_not_followed(receiver, deliverer):
    receiver.answers["/hook"] = [302]
    hook = hook_to(receiver, "/hook")
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert hook.log[0].outcome == "delivered" and hook.recent_failures == 0


def test_unreachable_receiver_is_an_internal_error(deliverer, receiver):
    hook = HookState(id=1, project_id=7, url="http://127.0.0.1:9/nowhere", issues_events=True)
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    assert hook.log[0].response_status == "internal error"
    assert hook.log[0].outcome == "failed" and hook.log[0].response_body


def test_four_failures_disable_and_later_events_are_dropped(receiver, deliverer, clock):
    receiver.answers["/hook"] = [500]
    hook = hook_to(receiver, "/hook")
    for n in range(6):
        deliverer.enqueue(hook, "Issue Hook", issue_event(n))
    drain(deliverer)
    assert len(receiver.requests) == 4
    assert [e.outcome for e in hook.log] == ["failed"] * 4 + ["dropped_disabled"] * 2
    assert hook.alert_status(clock.now) == "temporarily_disabled"
    assert hook.disabled_until == clock.now + timedelta(minutes=1)

    clock.now += timedelta(minutes=1, seconds=1)              # the back-off is over
    assert hook.alert_status(clock.now) == "executable"
    deliverer.enqueue(hook, "Issue Hook", issue_event(7))     # fails again: twice as long
    drain(deliverer)
    assert hook.disabled_until == clock.now + timedelta(minutes=2)

    clock.now += timedelta(minutes=3)
    receiver.answers["/hook"] = [200]
    deliverer.enqueue(hook, "Issue Hook", issue_event(8))
    drain(deliverer)
    assert hook.log[-1].outcome == "delivered"
    assert (hook.recent_failures, hook.disabled_until, hook.alert_status(clock.now)) == (
        0, None, "executable")


def test_a_success_resets_the_failure_count(receiver, deliverer):
    receiver.answers["/hook"] = [500, 500, 500, 200, 500, 500, 500]
    hook = hook_to(receiver, "/hook")
    for n in range(7):
        deliverer.enqueue(hook, "Issue Hook", issue_event(n))
    drain(deliverer)
    assert len(receiver.requests) == 7
    assert hook.recent_failures == 3 and hook.alert_status() == "executable"


def test_back_off_doubles_up_to_a_day_and_stops_for_good_at_forty():
    hook = HookState(id=1, project_id=1, url="http://unused.example.com")
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    backoffs = []
    for _ in range(39):
        hook.record_failure(now)
        backoffs.append(hook.disabled_until - now if hook.disabled_until else None)
    assert backoffs[:3] == [None] * 3
    assert backoffs[3:6] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoffs[-1] == timedelta(hours=24)
    assert hook.alert_status(now) == "temporarily_disabled"
    hook.record_failure(now)
    assert hook.alert_status(now) == "disabled" and hook.permanently_disabled


def test_recursion_fires_each_hook_once_per_chain(receiver, deliverer):
    first, second = hook_to(receiver, "/first", 1), hook_to(receiver, "/second", 2)
    deliverer.enqueue(first, "Issue Hook", issue_event())
    drain(deliverer)
    chain = receiver.at("/first")[0].headers["X-Gitlab-Event-UUID"]

    # The bot answers that event with API calls carrying the chain's UUID.
    deliverer.enqueue(first, "Note Hook", {"object_kind": "note"}, incoming_event_uuid=chain)
    deliverer.enqueue(second, "Note Hook", {"object_kind": "note"}, incoming_event_uuid=chain)
    deliverer.enqueue(second, "Issue Hook", issue_event(), incoming_event_uuid=chain)
    drain(deliverer)

    assert len(receiver.at("/first")) == 1
    [to_second] = receiver.at("/second")
    assert to_second.headers["X-Gitlab-Event-UUID"] == chain
    assert [e.outcome for e in first.log] == ["delivered", "suppressed_recursion"]
    assert sorted(e.outcome for e in second.log) == ["delivered", "suppressed_recursion"]


def test_resend_keeps_the_idempotency_key_and_changes_the_webhook_uuid(receiver, deliverer):
    hook = hook_to(receiver, "/hook")
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    resent = asyncio.run(deliverer.resend(hook, hook.log[0].id))
    original, again = receiver.requests
    assert again.headers["Idempotency-Key"] == original.headers["Idempotency-Key"]
    assert again.headers["X-Gitlab-Webhook-UUID"] != original.headers["X-Gitlab-Webhook-UUID"]
    assert again.body == original.body
    assert resent.outcome == "delivered" and resent.id != hook.log[0].id
    with pytest.raises(LookupError):
        asyncio.run(deliverer.resend(hook, 10_000))


def test_paused_hook_drops_events(receiver, deliverer):
    hook = hook_to(receiver, "/hook", paused=True)
    deliverer.enqueue(hook, "Issue Hook", issue_event())
    drain(deliverer)
    assert receiver.requests == []
    assert [e.outcome for e in hook.log] == ["dropped_paused"]


def test_hook_subscriptions():
    hook = HookState(id=1, project_id=1, url="http://x.example.com", note_events=True,
                     push_events=False)
    assert hook.wants("Note Hook") and not hook.wants("Issue Hook")
    assert not hook.wants("Confidential Note Hook") and not hook.wants("Push Hook")
    with pytest.raises(ValueError):
        hook.wants("Wiki Page Hook ")


def test_log_is_bounded(receiver, deliverer):
    hook = hook_to(receiver, "/hook", paused=True)
    for n in range(510):
        deliverer.enqueue(hook, "Issue Hook", issue_event(n))
    drain(deliverer)
    assert len(hook.log) == 500
    assert hook.log[-1].request_data["object_attributes"]["iid"] == 509


def test_deliveries_wait_for_the_response_and_join_the_request_chain(receiver, deliverer):
    """Through DeferDeliveries, as the sandbox app uses it, from sync and async routes."""
    hook = hook_to(receiver, "/hook")
    arrived_during_request: list[bool] = []

    def sync_write(request: Request) -> JSONResponse:
        deliverer.enqueue(hook, "Issue Hook", issue_event(1))
        arrived_during_request.append(receiver.arrived.wait(0.5))   # it must not
        return JSONResponse({"ok": True}, status_code=201)

    async def async_write(request: Request) -> JSONResponse:
        deliverer.enqueue(hook, "Note Hook", {"object_kind": "note"})
        return JSONResponse({"ok": True}, status_code=201)

    app = DeferDeliveries(Starlette(routes=[
        Route("/sync", sync_write, methods=["POST"]),
        Route("/async", async_write, methods=["POST"]),
    ]))
    with serving(app) as url:
        assert httpx.post(f"{url}/sync").status_code == 201
        drain(deliverer)
        assert arrived_during_request == [False]
        assert len(receiver.requests) == 1

        chain = receiver.requests[0].headers["X-Gitlab-Event-UUID"]
        response = httpx.post(f"{url}/async", headers={"X-Gitlab-Event-UUID": chain})
        assert response.status_code == 201
        drain(deliverer)
        assert len(receiver.requests) == 1                   # the hook already fired in chain
        assert hook.log[-1].outcome == "suppressed_recursion"

        assert httpx.post(f"{url}/async").status_code == 201
        drain(deliverer)
        assert receiver.requests[-1].headers["X-Gitlab-Event"] == "Note Hook"
