"""Run the bot's web app (what `vorhoelle serve` runs) under uvicorn in a thread, for tests.

    with running_bot(settings) as bot:
        httpx.post(f"{bot.url}/webhook", ...)
        wait_until(lambda: bot.queue.idle)

`bot.app`, `bot.runtime` and `bot.queue` are the live objects, for assertions; the server listens
on a free port and stops (gracefully, through the app's lifespan) when the block ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.server import DrainingServer, listening_socket, url_of
from bot.settings import Settings
from tests.support.waiting import wait_until


@dataclass
class RunningBot:
    url: str
    app: Starlette
    runtime: Runtime
    server: DrainingServer
    thread: threading.Thread

    @property
    def queue(self) -> Any:
        return self.runtime.queue

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    def catch_up_now(self) -> int:
        """Start a catch-up pass now; returns the number of passes before it (wait for more)."""
        loop = self.app.state.catch_up
        passes = loop.passes
        loop.wake()
        return passes

    def stop(self, timeout: float = 30) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


@contextmanager
def running_bot(settings: Settings, *, runtime: Runtime | None = None) -> Iterator[RunningBot]:
    runtime = runtime or build_runtime(settings)
    app = create_app(runtime)
    sock = listening_socket("127.0.0.1", 0)
    server = DrainingServer(app, settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bot", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), message="the bot to start")
    if not server.started:
        raise RuntimeError("the bot's server did not start (see the log)")
    bot = RunningBot(url_of(sock), app, runtime, server, thread)
    try:
        yield bot
    finally:
        bot.stop()
