"""Serving the bot's app with uvicorn, for `vorhoelle serve` and for tests alike."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

# Kept from the grace for what follows the converges: the last log lines and the interpreter's exit.
EXIT_MARGIN_SECONDS = 0.5


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT, first mark the app as draining (webhooks get 503) and fix the moment by
    which the whole shutdown must be over (`server.shutdown_grace_seconds` from the signal:
    Cloud Run kills the container 10 s after it), then let uvicorn stop as usual. Open connections
    and then the converges in hand share what is left of the grace (`shutdown_budget`). With
    `hard_exit` (`vorhoelle serve`), a process still alive at the deadline, a GitLab call stuck in
    a worker thread, exits there; converge is safe to abandon, catch-up finishes it."""

    def __init__(self, app: Any, grace_seconds: float = 10, *, hard_exit: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
        self.app = app
        self.hard_exit = hard_exit
        self.clock = clock
        self.deadline: float | None = None
        self.set_grace(grace_seconds)

    def set_grace(self, seconds: float) -> None:
        self.grace = seconds
        self.config.timeout_graceful_shutdown = max(0.1, seconds - EXIT_MARGIN_SECONDS)  # type: ignore[assignment]  # uvicorn waits a float as well

    def stop_soon(self) -> None:
        """Stop as on SIGTERM, from the server's own event loop (the bot could not start)."""
        self.should_exit = True

    async def shutdown(self, sockets: Any = None) -> None:
        """Stop as uvicorn does, then write what the log handler still holds: uvicorn ends by
        raising the signal again, and the default action ends the process without `atexit`."""
        await super().shutdown(sockets)
        from bot.logs import write_held   # late: the settings model is not to be loaded before listening

        write_held()

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.deadline is None:
            self.deadline = self.clock() + self.grace
            self.app.state.shutdown_deadline = self.deadline
            if self.hard_exit:
                timer = threading.Timer(self.grace, exit_at_deadline, args=(self.grace,))
                timer.daemon = True  # a shutdown done in time exits without waiting for it
                timer.start()
        self.app.state.draining = True
        super().handle_exit(sig, frame)


def shutdown_budget(state: Any, grace: float, clock: Callable[[], float] = time.monotonic) -> float:
    """Seconds the converges in hand may still take: what is left until the deadline the signal
    set (less a margin for the exit itself), or the whole `grace` when stopped without one."""
    deadline = getattr(state, "shutdown_deadline", None)
    if deadline is None:
        return grace
    return max(0.0, deadline - clock() - EXIT_MARGIN_SECONDS)


def exit_at_deadline(grace: float) -> None:
    """The grace is over and the process still runs: a worker thread waits on GitLab. Say so
    and exit now, before the platform's SIGKILL; the next catch-up covers the issue in hand."""
    log.warning("shutdown took the whole grace of %ss (a GitLab call still in hand); exiting now", grace)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(0)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound before serving, so the URL (port 0: a free port) is known before the first request.

    TCP_NODELAY is inherited by accepted connections: without it a keep-alive client (GitLab's
    webhook sender, a load test) waits ~40 ms per request for Nagle's algorithm to meet delayed
    ACKs."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def url_of(sock: socket.socket, public_url: str | None = None) -> str:
    if public_url:
        return public_url.rstrip("/")
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
