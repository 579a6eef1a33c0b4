"""The sandbox GitLab: enough of GitLab's REST API v4 for python-gitlab and the bot, in-process.

    from bot.sandbox import start_in_thread
    sandbox = start_in_thread()          # port 0: a free port
    gitlab.Gitlab(sandbox.url, private_token=sandbox.root_token)
    sandbox.stop()

`vorhoelle sandbox` runs the same app in the foreground (bot/cli/sandbox.py).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from bot.sandbox.app import create_app

__all__ = ["RunningSandbox", "bind", "create_app", "server_for", "start_in_thread", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket; with port 0 the OS picks a free port, known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: without it, a keep-alive client waits ~40 ms per request
    # (Nagle's algorithm meeting delayed ACKs), which made python-gitlab 20x slower.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server_for(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    return uvicorn.Server(config)


@dataclass
class RunningSandbox:
    url: str
    root_token: str
    app: Starlette
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    root_token: str | None = None,
    state_file: str | None = None,
    startup_timeout: float = 15.0,
) -> RunningSandbox:
    """Serve a sandbox from a daemon thread; returns once it accepts connections."""
    sock = bind(host, port)
    url = url_of(sock)
    app = create_app(url, root_token=root_token, state_file=state_file)
    server = server_for(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox {url}", daemon=True
    )
    thread.start()
    waited = threading.Event()
    while not server.started and thread.is_alive():
        waited.wait(0.01)
        startup_timeout -= 0.01
        if startup_timeout <= 0:
            server.should_exit = True
            raise RuntimeError(f"sandbox at {url} did not start")
    if not server.started:
        raise RuntimeError(f"sandbox at {url} failed to start")
    return RunningSandbox(url, app.state.root_token, app, server, thread)
