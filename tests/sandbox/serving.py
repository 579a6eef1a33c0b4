"""Serve any ASGI app under uvicorn from a thread on a free port, for the sandbox's piece tests.

    with serving(app) as url:
        httpx.get(f"{url}/api/v4/version")

The socket gets TCP_NODELAY (accepted connections inherit it): without it every keep-alive
request waits ~40 ms for a delayed ACK, because the response goes out in two writes.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.sandbox import bind, server_for, url_of
from tests.support.waiting import wait_until


@contextmanager
def serving(app: Any) -> Iterator[str]:
    sock = bind("127.0.0.1", 0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), message="uvicorn start")
        assert server.started, "uvicorn did not start"
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
