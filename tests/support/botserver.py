"""Run the bot's web app (what `vorhoelle serve` runs) under uvicorn in a thread, for tests.

    with running_bot(settings) as bot:
        httpx.post(f"{bot.url}/webhook", ...)
        wait_until(lambda: bot.queue.idle)

`LoggedProcess` runs `vorhoelle sandbox` or `vorhoelle serve` as a real process instead, for
tests that kill one.

`bot.web.app`, `bot.runtime` and `bot.queue` are the live objects, for assertions; the server listens
on a free port (or `port`, to come back where a webhook expects it) and stops gracefully, through
the app's lifespan, when the block ends. `install_hook_for(bot, world)` points the world's project
webhook at it, as `vorhoelle hook install` would.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.web.app import create_app
from bot.gitlab_access import GitLabAccess
from bot.hook_admin import install_hook
from bot.runtime import Runtime, build_runtime
from bot.web.server import DrainingServer, listening_socket, url_of
from bot.config.settings import Settings
from bot.web.webhook import ReceiverState, receiver_state
from tests.support.bot import bot_settings
from tests.support.waiting import wait_until

WEBHOOK_SECRET = "made-up-webhook-secret"
API_TOKEN = "made-up-api-token"  # served bots' default: /health/ready shows its details to it


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
    """`bot_settings` plus the webhook secret the receiver checks and an API token."""
    return bot_settings(world, **{"webhook_secret": WEBHOOK_SECRET, "api_token": API_TOKEN, **over})


def ready(bot_url: str, token: str = API_TOKEN, timeout: float = 10) -> httpx.Response:
    """`GET /health/ready` with the API token: the details (project, queue, catch-up), not only the status."""
    return httpx.get(f"{bot_url}/health/ready", headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


@contextmanager
def running_bot(settings: Settings, *, port: int = 0, runtime: Runtime | None = None) -> Iterator[RunningBot]:
    runtime = runtime or build_runtime(settings)
    app = create_app(runtime)
    sock = listening_socket("127.0.0.1", port)
    server = DrainingServer(app, settings.server.shutdown_grace_seconds)
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


def install_hook_for(bot: Any, world: Any) -> int:
    """Point the world's project webhook at `bot` (anything with `.url`: a RunningBot or a serve
    process), as `vorhoelle hook install` does — with the maintainer's token, since managing hooks
    needs that role. Returns the hook id."""
    maintainer = GitLabAccess(world.url, world.users["maintainer"]["token"], world.path)
    hook, _ = install_hook(maintainer, f"{bot.url}/webhook", WEBHOOK_SECRET)
    return hook["id"]


def settle(sandbox: Any, bot: RunningBot, timeout: float = 30) -> None:
    """Wait until the sandbox has nothing left to deliver and the bot nothing left to converge,
    with no delivery arriving meanwhile (each can set the other off again)."""
    deliverer = sandbox.app.state.sandbox.deliverer

    def calm() -> bool:
        before = bot.receiver.deliveries
        asyncio.run(deliverer.drain(timeout))
        wait_until(lambda: bot.queue.idle, timeout, message="the bot's queue to empty")
        asyncio.run(deliverer.drain(timeout))
        return bot.queue.idle and bot.receiver.deliveries == before

    wait_until(calm, timeout, message="deliveries and converges to settle")


def _environment(changes: dict[str, str | None] | None) -> dict[str, str]:
    """This process's environment with `changes` applied; a None value removes the variable."""
    merged = {**os.environ, **(changes or {})}
    return {name: value for name, value in merged.items() if value is not None}


class LoggedProcess:
    """A `vorhoelle …` subprocess whose output (stdout and stderr) is collected line by line;
    `env` changes its environment (None removes a variable)."""

    def __init__(self, *args: str, env: dict[str, str | None] | None = None, cwd: str | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=_environment(env), cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0,
        )
        self.lines: list[str] = []
        self.url: str | None = None
        threading.Thread(target=self._collect, daemon=True).start()
        atexit.register(self._kill_if_running)  # a failed test must not leave it behind

    def _kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.kill()

    def _collect(self) -> None:
        """Read what the pipe holds in one go, as a container runtime does: a reader woken per
        line would take CPU from a server under load (bench/webhook_ack.py measures one)."""
        assert self.process.stdout is not None
        decoder, rest = codecs.getincrementaldecoder("utf-8")("replace"), ""
        while chunk := os.read(self.process.stdout.fileno(), 1 << 16):
            *complete, rest = (rest + decoder.decode(chunk)).split("\n")
            self.lines.extend(complete)
        if tail := rest + decoder.decode(b"", final=True):
            self.lines.append(tail)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """The first output line matching `pattern` (fails early if the process died)."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            match = next((m for m in map(regex.search, list(self.lines)) if m), None)
            if match is None and self.process.poll() is not None:
                raise AssertionError(f"process exited {self.process.returncode}:\n" + "\n".join(self.lines[-30:]))
            return match

        return wait_until(found, timeout, message=f"a line matching {pattern!r}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as a process manager stops the bot; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code < 500
    except httpx.TransportError:
        return False


def sandbox_process() -> tuple[LoggedProcess, Any]:
    """`vorhoelle sandbox` on a free port; returns it and an object with `.url` and `.root_token`
    (what `new_world` needs)."""
    token = f"made-up-root-{secrets.token_hex(8)}"
    process = LoggedProcess("sandbox", "--port", "0", "--root-token", token)
    url = process.wait_for(r"Sandbox GitLab at (\S+)").group(1)
    wait_until(lambda: answers(f"{url}/api/v4/version"), message="the sandbox to accept connections")
    return process, type("SandboxProcess", (), {"url": url, "root_token": token})()


def bot_env(settings: Settings) -> dict[str, str]:
    """The environment that configures a `vorhoelle` process like `settings` do."""
    return {
        "VORHOELLE_GITLAB_URL": settings.gitlab_url,
        "VORHOELLE_GITLAB_TOKEN": settings.gitlab_token.get_secret_value(),
        "VORHOELLE_PROJECT": settings.project,
        "VORHOELLE_WEBHOOK_SECRET": settings.webhook_secret.get_secret_value(),
        "VORHOELLE_LOGGING__FORMAT": "text",
        **({"VORHOELLE_API_TOKEN": settings.api_token.get_secret_value()} if settings.api_token else {}),
    }


def run_vorhoelle(settings: Settings, *args: str, cwd: str | None = None,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One `vorhoelle …` command to its end, configured like `settings` (`env` adds variables)."""
    return subprocess.run([sys.executable, "-m", "bot", *args], env=_environment({**bot_env(settings), **(env or {})}),
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def serve_process(settings: Settings, *, port: int = 0, cwd: str | None = None,
                  env: dict[str, str] | None = None) -> LoggedProcess:
    """`vorhoelle serve` configured through the environment, as in production (`env` adds
    variables, e.g. VORHOELLE_SERVER__SHUTDOWN_GRACE_SECONDS); its `.url` is read from its log."""
    process = LoggedProcess("serve", "--port", str(port), env={**bot_env(settings), **(env or {})}, cwd=cwd)
    process.url = process.wait_for(r"listening on (http://\S+)").group(1)
    return process
