"""Run the bot's web app (what `vorhoelle serve` runs) under uvicorn in a thread, for tests.

    with running_bot(settings) as bot:
        httpx.post(f"{bot.url}/webhook", ...)
        wait_until(lambda: bot.queue.idle)

`bot.app`, `bot.runtime` and `bot.queue` are the live objects, for assertions; the server listens
on a free port (or `port`, to come back where a webhook expects it) and stops gracefully, through
the app's lifespan, when the block ends. `install_hook_for(bot, world)` points the world's project
webhook at it, as `vorhoelle hook install` would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from bot.app import create_app
from bot.gitlab_access import GitLabAccess
from bot.hook_admin import install_hook
from bot.runtime import Runtime, build_runtime
from bot.server import DrainingServer, listening_socket, url_of
from bot.settings import Settings
from bot.webhook import ReceiverState, receiver_state
from tests.support.bot import bot_settings
from tests.support.waiting import wait_until

WEBHOOK_SECRET = "made-up-webhook-secret"


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
    def receiver(self) -> ReceiverState:
        """Counts of deliveries by outcome (`stats`) and of ignored ones by reason (`ignored`)."""
        return receiver_state(self.app)

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


def served_bot_settings(world: Any, **over: Any) -> Settings:
    """`bot_settings` plus the webhook secret the receiver checks."""
    return bot_settings(world, webhook_secret=WEBHOOK_SECRET, **over)


@contextmanager
def running_bot(settings: Settings, *, port: int = 0, runtime: Runtime | None = None) -> Iterator[RunningBot]:
    runtime = runtime or build_runtime(settings)
    app = create_app(runtime)
    sock = listening_socket("127.0.0.1", port)
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


def install_hook_for(bot: RunningBot, world: Any) -> int:
    """Install the bot's webhook on the world's project (as its maintainer); returns the hook id."""
    maintainer = GitLabAccess(world.url, world.users["maintainer"]["token"], world.path)
    secret = bot.runtime.settings.webhook_secret.get_secret_value()
    hook, _ = install_hook(maintainer, bot.webhook_url, secret)
    return hook["id"]


def settle(sandbox: Any, bot: RunningBot, timeout: float = 30) -> None:
    """Wait until the sandbox has nothing left to deliver and the bot nothing left to converge,
    with no delivery arriving meanwhile (each can set the other off again)."""
    deliverer = sandbox.app.state.sandbox.deliverer

    def calm() -> bool:
        before = bot.receiver.stats["deliveries"]
        asyncio.run(deliverer.drain(timeout))
        wait_until(lambda: bot.queue.idle, timeout, message="the bot's queue to empty")
        asyncio.run(deliverer.drain(timeout))
        return bot.queue.idle and bot.receiver.stats["deliveries"] == before

    wait_until(calm, timeout, message="deliveries and converges to settle")
