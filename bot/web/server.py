"""Serving the bot's app with uvicorn, for `vorhoelle serve` and for tests alike."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT, first mark the app as draining (webhooks get 503), then let uvicorn stop
    as usual; the app's lifespan gives converges in hand their grace (`server.shutdown_grace_seconds`,
    which also bounds how long open connections may take to finish)."""

    def __init__(self, app: Any, grace_seconds: float = 10):
        super().__init__(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
        self.app = app
        self.set_grace(grace_seconds)

    def set_grace(self, seconds: float) -> None:
        self.config.timeout_graceful_shutdown = max(1, round(seconds))

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
        self.app.state.draining = True
        super().handle_exit(sig, frame)


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
