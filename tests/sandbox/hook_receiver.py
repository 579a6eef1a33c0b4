"""A tiny real HTTP server that records webhook deliveries, for tests of the sandbox's hooks."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def event(self) -> str:
        return self.headers.get("X-Gitlab-Event", "")


@dataclass
class Receiver:
    url: str
    server: ThreadingHTTPServer
    deliveries: list[Delivery] = field(default_factory=list)
    status: int = 200

    def of(self, event: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.event == event]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hook", server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
