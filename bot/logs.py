"""Log lines an operator can read on a terminal and a machine can parse everywhere else.

`configure_logging(settings)` sets up the root logger once: JSON lines when stderr is not a
terminal (a container, a service), `HH:MM:SS LEVEL logger message key=value` on a terminal;
`logging.format` (auto, json, text) chooses explicitly. The JSON names its fields as Google Cloud
Logging reads them (`severity`, `message`, `time`, and `logging.googleapis.com/trace` for a line
written while answering a request that carried a trace header), so one format serves Cloud Run
and `jq` alike. Modules log with their own logger and say
what happened to which issue through `extra=`:

    log.info("converged", extra={"event": "converge", "issue": 12, "outcome": "ok"})

Every finished line passes `RedactSecrets`, so a token that slips into a message, an extra or a
traceback is printed as `**********`.

For `vorhoelle serve`, formatting, redaction and the write happen off the event loop: the root
logger's handler only keeps the record (`OffThreadHandler`), and a writer thread formats and
writes what it holds every 50 ms, so a webhook's log line costs the loop little more than making
the record. At exit (`atexit`) what is still held is written; `flush()` waits for it (tests read
the stream right after logging).
"""

from __future__ import annotations

import atexit
import collections
import contextvars
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable

import orjson

from bot.config.masking import MASK, secret_values
from bot.config.settings import Settings

# Token shapes worth hiding even when they are not (or no longer) in the settings: GitLab
# personal/project/deploy/runner tokens and Slack tokens.
_KNOWN_TOKEN_SHAPES = r"\b(?:glpat|glptt|gldt|glrt|gloas)-[0-9A-Za-z_\-]{10,}|\bxox[abpres]-[0-9A-Za-z\-]{10,}"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Libraries that log every request or connection; the bot logs one line per webhook itself.
_QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "urllib3", "asyncio")
_HANDLER_NAME = "vorhoelle"
TRACE_FIELD = "logging.googleapis.com/trace"
_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("vorhoelle_trace", default=None)


def trace_of(headers: Mapping[str, str]) -> str | None:
    """The trace a request belongs to, from Google's `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or
    W3C `traceparent: 00-TRACE-SPAN-01`, spelled as Cloud Logging links it to the request
    (`projects/P/traces/TRACE`, P from `GOOGLE_CLOUD_PROJECT`; the bare id without it)."""
    trace = (headers.get("x-cloud-trace-context") or "").split("/")[0].strip()
    if not trace:
        parts = (headers.get("traceparent") or "").split("-")
        trace = parts[1] if len(parts) == 4 else ""
    if not re.fullmatch(r"[0-9a-fA-F]{1,32}", trace):
        return None
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    return f"projects/{project}/traces/{trace}" if project else trace


@contextmanager
def tracing(trace: str | None) -> Iterator[None]:
    """Lines logged inside the block (this task or thread) carry `trace`."""
    token = _trace.set(trace)
    try:
        yield
    finally:
        _trace.reset(token)


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


class RedactSecrets(logging.Formatter):
    """Formats with `inner`, then replaces every secret value in the finished line (message,
    extras and traceback alike) with the mask: one pass over the line, not one per field.

    A secret is looked for as written and as a JSON line escapes it."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()):
        super().__init__()
        self._inner = inner
        values = {s for s in secrets if s}
        forms = values | {orjson.dumps(s).decode()[1:-1] for s in values}
        known = sorted({re.escape(s) for s in forms}, key=len, reverse=True)
        self._pattern = re.compile("|".join([*known, _KNOWN_TOKEN_SHAPES]))

    def redact(self, text: str) -> str:
        return self._pattern.sub(MASK, text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self._inner.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, severity, logger, message, the trace, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "severity": record.levelname,  # Python's level names are Cloud Logging's, CRITICAL too
            "logger": record.name,
            "message": record.getMessage(),
            **extras(record),
        }
        trace = getattr(record, "_trace", None) or _trace.get()   # taken where the line was logged
        if trace:
            line[TRACE_FIELD] = trace
        if record.exc_text:
            line["exception"] = record.exc_text
        elif record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()   # a tenth of json.dumps' time


class TextFormatter(logging.Formatter):
    """`12:00:01 INFO  bot.converge  converged  event=converge issue=12 outcome=ok`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s  %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in extras(record).items())
        if not fields:
            return text
        head, _, tail = text.partition("\n")
        return f"{head}  {fields}" + (f"\n{tail}" if tail else "")


class OffThreadHandler(logging.Handler):
    """Keeps records in memory and has a writer thread format and write them in batches, every
    `interval` seconds: a record costs its caller an append, and the writer one wake-up per
    batch, not one per line (a thread woken per line, as `QueueListener` is, costs more CPU
    than formatting the line where it was logged; bench/README.md has the figures).

    The arguments of a log call are formatted up to `interval` later than the call; the bot
    passes strings and numbers."""

    def __init__(self, target: logging.Handler, interval: float = 0.05) -> None:
        super().__init__()
        self._target = target
        self._interval = interval
        self._pending: collections.deque[logging.LogRecord] = collections.deque()
        self._wake = threading.Event()
        self._written = threading.Condition()
        self._batches = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._write_batches, name="log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.stop)

    def handle(self, record: logging.LogRecord) -> bool:   # no lock, no filter: a deque append is atomic
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        record._trace = _trace.get()   # the request's trace, read where the line was logged
        self._pending.append(record)

    def _write_batches(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            while self._pending:
                self._target.handle(self._pending.popleft())
                time.sleep(0)   # hand the GIL back between lines: the event loop must not wait a batch
            with self._written:
                self._batches += 1
                self._written.notify_all()
            if self._stopping:
                return

    def flush(self) -> None:
        """Wait until every record handed over so far has been written."""
        if not self._thread.is_alive():
            return
        with self._written:
            seen = self._batches
            self._wake.set()
            self._written.wait_for(lambda: self._batches >= seen + 2 or not self._thread.is_alive())

    def close(self) -> None:
        """Write what is held, and go on working: like a stream handler's close, which
        `logging.config.dictConfig` calls on every handler (uvicorn configures logging so when
        the embedded sandbox starts) without taking them off their loggers."""
        self.flush()
        super().close()

    def stop(self) -> None:
        """Write what is still held and end the writer (at exit, or when configured again)."""
        if self._thread.is_alive():
            self._stopping = True
            self._wake.set()
            self._thread.join()
        atexit.unregister(self.stop)
        super().close()


def write_held() -> None:
    """Write what the off-thread handler still holds (before a signal ends the process)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, OffThreadHandler):
            handler.flush()


def choose_format(wanted: str, stream: Any) -> str:
    if wanted != "auto":
        return wanted
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def configure_logging(settings: Settings, stream: Any = None, *, off_thread: bool = False) -> logging.Handler:
    """Install the bot's one handler on the root logger (again: replaces the previous one).
    `off_thread` (`vorhoelle serve`): lines are formatted and written by a listener thread;
    one-shot commands write them at once."""
    stream = stream or sys.stderr
    writer = logging.StreamHandler(stream)
    fmt = choose_format(settings.logging.format, stream)
    writer.setFormatter(RedactSecrets(JsonFormatter() if fmt == "json" else TextFormatter(), secret_values(settings)))
    handler: logging.Handler = OffThreadHandler(writer) if off_thread else writer
    handler.name = _HANDLER_NAME
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
        if isinstance(old, OffThreadHandler):
            old.stop()
        else:
            old.close()
    root.addHandler(handler)
    if off_thread:
        # No line shows the caller's file, line, thread or process: spare every record of the
        # server's hot path finding them.
        logging._srcfile = None
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(settings.logging.level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
