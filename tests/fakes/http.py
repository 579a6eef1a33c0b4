"""A tiny recording HTTP server for fake services: free port, own thread, scripted failures.

Each fake (slack.py, twilio.py, gmail.py) subclasses `FakeService` and answers like the real
service in `answer(request)`; tests read `requests` to check what the service received, and
queue failures with `fail_next` to play an outage or a rate limit.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0   # what the fake answered

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Answer:
    status: int
    body: bytes | str | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


class FakeService:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._failures: deque[Answer] = deque()
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                received = Received(
                    self.command, parts.path, parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length),
                )
                answer = service._next(received)
                body, content_type = answer.encoded()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.headers.pop("Content-Type", content_type))
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeService":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeService":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def fail_next(self, times: int, answer: Answer) -> None:
        """Answer the next `times` requests with `answer` instead of success."""
        with self._lock:
            self._failures.extend(Answer(answer.status, answer.body, dict(answer.headers)) for _ in range(times))

    def _next(self, received: Received) -> Answer:
        with self._lock:
            self.requests.append(received)
            scripted = self._failures.popleft() if self._failures else None
        answer = scripted or self.answer(received)
        received.status = answer.status
        return answer

    def answer(self, received: Received) -> Answer:
        raise NotImplementedError

    def delivered(self) -> list[Received]:
        """The requests the fake accepted (answered 2xx)."""
        return [r for r in self.requests if 200 <= r.status < 300]
