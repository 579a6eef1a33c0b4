"""`vorhoelle serve` listens before the bot has loaded (bot/web/loading.py): probes answer at once,
every other request waits for the bot and is answered by it, a failed load answers 503 and stops
the server. Real uvicorn, real HTTP; the load is a function the test holds at a gate."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.config.files import ConfigError
from bot.web.loading import LoadingApp
from bot.web.server import DrainingServer, listening_socket, url_of
from tests.support.waiting import wait_until


class HeldLoad:
    """A load that waits at a gate, then builds a small app whose lifespan is recorded."""

    def __init__(self, failure: Exception | None = None):
        self.gate = threading.Event()
        self.failure = failure
        self.events: list[str] = []

    def __call__(self) -> Starlette:
        assert self.gate.wait(20), "the test never opened the gate"
        if self.failure is not None:
            raise self.failure

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette):
            self.events.append("bot started")
            yield
            self.events.append("bot stopped")

        async def webhook(request: Any) -> JSONResponse:
            self.events.append("webhook answered")
            return JSONResponse({"status": "queued", "body": (await request.body()).decode()}, status_code=202)

        async def live(request: Any) -> JSONResponse:
            return JSONResponse({"status": "live"})

        return Starlette(routes=[Route("/webhook", webhook, methods=["POST"]), Route("/health/live", live)],
                         lifespan=lifespan)


@contextlib.contextmanager
def serving(load: HeldLoad, hold_seconds: float = 30) -> Iterator[tuple[str, LoadingApp, DrainingServer, threading.Thread]]:
    sock = listening_socket("127.0.0.1", 0)
    app = LoadingApp(load, hold_seconds=hold_seconds)
    server = DrainingServer(app)
    app.on_failure = server.stop_soon
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), message="the server to listen")
    try:
        yield url_of(sock), app, server, thread
    finally:
        load.gate.set()
        server.should_exit = True
        thread.join(20)


def test_probes_answer_while_loading_and_a_webhook_waits_for_the_bot():
    load = HeldLoad()
    with serving(load) as (url, app, server, _), ThreadPoolExecutor(2) as pool:
        live = httpx.get(f"{url}/health/live")
        ready = httpx.get(f"{url}/health/ready")
        assert (live.status_code, live.json()) == (200, {"status": "starting"})
        assert httpx.get(f"{url}/health").json() == {"status": "starting"}  # as /health/live
        assert (ready.status_code, ready.json()["error"], ready.headers["Retry-After"]) == (503, "starting", "1")
        held = pool.submit(httpx.post, f"{url}/webhook", content=b'{"object_kind": "issue"}', timeout=20)
        wait_until(lambda: len(server.server_state.tasks) == 1, message="the webhook to arrive")
        assert not held.done() and load.events == []
        load.gate.set()
        answer = held.result(20)
        assert (answer.status_code, answer.json()["body"]) == (202, '{"object_kind": "issue"}')
        assert load.events == ["bot started", "webhook answered"]   # its lifespan first
        assert httpx.get(f"{url}/health/live").json() == {"status": "live"}   # the bot's own now
    assert load.events[-1] == "bot stopped"
    assert app.failure is None


def test_a_request_held_past_its_limit_gets_503():
    load = HeldLoad()
    with serving(load, hold_seconds=0.2) as (url, _, _, _):
        answer = httpx.post(f"{url}/webhook", content=b"{}", timeout=20)
        assert (answer.status_code, answer.json()["error"]) == (503, "starting")


def test_a_failed_load_answers_503_to_what_waited_and_stops_the_server():
    load = HeldLoad(failure=ConfigError(["server.port: not a port"]))
    with serving(load) as (url, app, server, thread), ThreadPoolExecutor(1) as pool:
        held = pool.submit(httpx.post, f"{url}/webhook", content=b"{}", timeout=20)
        wait_until(lambda: len(server.server_state.tasks) == 1, message="the webhook to arrive")
        load.gate.set()
        answer = held.result(20)
        assert (answer.status_code, answer.json()["error"]) == (503, "the bot could not start")
        thread.join(20)
        assert not thread.is_alive()   # stopped on its own
        assert isinstance(app.failure, ConfigError) and app.failure.problems == ["server.port: not a port"]
    assert load.events == []


def test_stopped_while_loading_the_bot_never_starts():
    load = HeldLoad()
    with serving(load) as (_, app, server, thread):
        server.handle_exit(15, None)   # SIGTERM
        assert app.state.draining is True
        load.gate.set()
        thread.join(20)
        assert not thread.is_alive()
    assert load.events == [] and app.app is None and app.failure is None
