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

For `vorhoelle serve`, the lines logged on the event loop are held and written together every
50 ms (`BatchingHandler`), so a webhook's line costs one write per batch, not one per line. At
exit (`atexit`) and on shutdown what is still held is written; `flush()` writes it at once.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextvars
import itertools
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

import msgspec
import orjson

from bot.config.masking import MASK, secret_values
from bot.config.settings import Settings

# Token shapes worth hiding even when they are not (or no longer) in the settings: GitLab
# personal/project/deploy/runner tokens and Slack tokens.
_KNOWN_TOKEN_SHAPES = r"\b(?:glpat|glptt|gldt|glrt|gloas)-[0-9A-Za-z_\-]{10,}|\bxox[abpres]-[0-9A-Za-z\-]{10,}"
_KNOWN_TOKEN_STARTS = ("gl", "xox")   # what every match of those shapes contains
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# How many attributes a LogRecord sets itself, before any `extra=` is added to it.
_OWN_ATTRIBUTES = len(vars(logging.makeLogRecord({})))
# Libraries that log every request or connection; the bot logs one line per webhook itself.
_QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "urllib3", "asyncio")
_HANDLER_NAME = "vorhoelle"
TRACE_FIELD = "logging.googleapis.com/trace"
_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("vorhoelle_trace", default=None)


# The request headers `trace_of` reads, as ASGI spells header names.
_TRACE_HEADERS = frozenset({b"x-cloud-trace-context", b"traceparent"})


def trace_in(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """`trace_of` the request's headers as ASGI gives them (only the trace headers decoded)."""
    traced = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name in _TRACE_HEADERS}
    return trace_of(traced) if traced else None


def trace_of(headers: Mapping[str, str]) -> str | None:
    """The trace a request belongs to, from Google's `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or
    W3C `traceparent: 00-TRACE-SPAN-01`, spelled as Cloud Logging links it to the request
    (`projects/P/traces/TRACE`, P from `GOOGLE_CLOUD_PROJECT`; the bare id without it)."""
    trace = (headers.get("x-cloud-trace-context") or "").split("/")[0].strip()
    if not trace:
        parts = (headers.get("traceparent") or "").split("-")
        trace = parts[1] if len(parts) == 4 else ""
    if not trace:   # neither header: most requests
        return None
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
    """The fields a caller passed with `extra=`: looked for only after the record's own
    attributes, which it sets first (a webhook's line has four extras among ~25 attributes)."""
    return {k: v for k, v in itertools.islice(vars(record).items(), _OWN_ATTRIBUTES, None)
            if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


class Redactor:
    """Replaces every secret value in a text (a line, or a batch of lines) with the mask, in one
    pass. A secret is looked for as written and as a JSON line escapes it, and so are the token
    shapes in `_KNOWN_TOKEN_SHAPES`, configured or not."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {s for s in secrets if s}
        forms = values | {orjson.dumps(s).decode()[1:-1] for s in values}
        known = sorted({re.escape(s) for s in forms}, key=len, reverse=True)
        self._pattern = re.compile("|".join([*known, _KNOWN_TOKEN_SHAPES]))
        # What every match contains: a text with none of them (nearly every line) skips the
        # regex, whose alternation is tried at every position (~10 µs for a webhook's line).
        self._needles = (*forms, *_KNOWN_TOKEN_STARTS)
        self._within_lines = not any("\n" in form for form in forms)

    def redact(self, text: str) -> str:
        if not any(map(text.__contains__, self._needles)):
            return text
        return self._pattern.sub(MASK, text)

    def redact_lines(self, lines: list[str]) -> str:
        """The lines, each redacted, each ending in a line break. When no secret holds a line
        break, no match can reach from one line into the next, and one pass over them all does
        (a batch of a few hundred lines costs about what one line's own pass did)."""
        if self._within_lines:
            return self.redact("\n".join(lines) + "\n")
        return "".join(self.redact(line) + "\n" for line in lines)


class RedactSecrets(logging.Formatter):
    """Formats with `inner`, then redacts the finished line (message, extras and traceback
    alike): one pass over the line, not one per field."""

    def __init__(self, inner: logging.Formatter, redactor: Redactor):
        super().__init__()
        self._inner = inner
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(self._inner.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, severity, logger, message, the extras, the trace."""

    def format(self, record: logging.LogRecord) -> str:
        exception = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else None)
        return self.line(HeldLine(record.created, record.levelname, record.name, record.getMessage(),
                                  extras(record), getattr(record, "_trace", None) or _trace.get()), exception)

    @staticmethod
    def line(held: HeldLine, exception: str | None = None) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(held.created, timezone.utc),   # orjson writes RFC 3339
            "severity": held.level,  # Python's level names are Cloud Logging's, CRITICAL too
            "logger": held.logger,
            "message": held.message,
            **held.fields,
        }
        if held.trace:
            line[TRACE_FIELD] = held.trace
        if exception:
            line["exception"] = exception
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


class HeldLine(msgspec.Struct, gc=False):
    """A line as `hot_line` holds it, without a LogRecord (a msgspec Struct: one is made for
    every delivery, in a quarter of a named tuple's time)."""

    created: float
    level: str
    logger: str
    message: str
    fields: dict[str, Any]
    trace: str | None

    def record(self) -> logging.LogRecord:
        """The LogRecord for a formatter that formats only records."""
        record = logging.makeLogRecord({**self.fields, "name": self.logger, "msg": self.message,
                                        "levelname": self.level, "levelno": logging.getLevelName(self.level),
                                        "created": self.created, "_trace": self.trace})
        record.msecs = (self.created - int(self.created)) * 1000
        return record


class BatchingHandler(logging.Handler):
    """Holds the lines logged on the server's event loop and writes them together, `interval`
    seconds after the first of a batch, in one write and redacted in one pass: a webhook's line
    costs the loop its record and a share of the batch's work, and no second thread competes for
    the GIL. (A writer thread did: each hand-over of the GIL cost the loop more than the line
    itself; bench/README.md.)

    Batching starts with `batch_on_this_loop()` (the app's lifespan) and ends with it. A line
    logged on any other thread (a converge in a worker thread, a timer) is written at once, after
    what is held, so the order stays. The arguments of a call on the loop are formatted up to
    `interval` later than the call; the bot passes strings and numbers."""

    def __init__(self, stream: Any, formatter: logging.Formatter, redactor: Redactor | None = None,
                 interval: float = 0.05) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self._stream = stream
        self._redactor = redactor or Redactor()
        self.interval = interval
        self._pending: collections.deque[logging.LogRecord | HeldLine] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._due = False
        atexit.register(self.flush)

    @contextmanager
    def batch_on_this_loop(self) -> Iterator[None]:
        """Hold the lines logged on the running event loop for the block; write them at its end."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        try:
            yield
        finally:
            self._loop = self._loop_thread = None
            self._due = False   # a timer still pending dies with its loop
            self.flush()

    def handle(self, record: logging.LogRecord) -> bool:   # no filter on this handler
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        record._trace = _trace.get()   # the request's trace, read where the line was logged
        self.hold(record)

    def holds_here(self) -> bool:
        """Whether a line logged now is held for the batch: this thread runs the loop it batches on."""
        return self._loop is not None and threading.get_ident() == self._loop_thread

    def hold(self, line: logging.LogRecord | HeldLine) -> None:
        """Hold a record, or a line made by `hot_line`, for the batch; written at once (after
        what is held) when logged on another thread than the loop's."""
        self._pending.append(line)
        if threading.get_ident() != self._loop_thread:
            self.flush()
        elif not self._due and self._loop is not None:
            self._due = True
            self._loop.call_later(self.interval, self._write_due)

    def _write_due(self) -> None:
        self._due = False
        self.flush()

    def flush(self) -> None:
        """Write every line held so far, redacted, in one write."""
        with self.lock:   # type: ignore[union-attr]  # Handler.createLock made it
            lines = []
            as_json = self.formatter if isinstance(self.formatter, JsonFormatter) else None
            while self._pending:
                held = self._pending.popleft()
                try:
                    if isinstance(held, logging.LogRecord):
                        lines.append(self.format(held))
                    elif as_json is not None:   # the receiver's lines, most of a busy batch
                        lines.append(as_json.line(held))
                    else:
                        lines.append(self.format(held.record()))
                except Exception:
                    self.handleError(held if isinstance(held, logging.LogRecord) else held.record())
            if lines:
                try:
                    self._stream.write(self._redactor.redact_lines(lines))
                    self._stream.flush()
                except Exception:
                    self.handleError(logging.makeLogRecord({"msg": "%d held lines not written", "args": (len(lines),)}))

    def close(self) -> None:
        """Write what is held and go on working: like a stream handler's close, which
        `logging.config.dictConfig` calls on every handler (uvicorn configures logging so when
        the embedded sandbox starts) without taking them off their loggers."""
        self.flush()
        super().close()


def batching_handler() -> BatchingHandler | None:
    return next((h for h in logging.getLogger().handlers if isinstance(h, BatchingHandler)), None)


@contextmanager
def lines_batched_on_this_loop() -> Iterator[None]:
    """For the block, the lines logged on the running event loop are written in batches when
    `vorhoelle serve` configured logging so (`configure_logging(batched=True)`)."""
    handler = batching_handler()
    if handler is None:
        yield
        return
    with handler.batch_on_this_loop():
        yield


def hot_line(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """`logger.log(level, "%s", message, extra=fields)` for a line on the server's hot path (the
    receiver's one line per webhook). When the batching handler is the only handler the line
    would reach and it batches on this thread, the line is held as it is: making, routing and
    reading back a LogRecord cost a webhook about three times what writing its line does
    (bench/README.md). Anywhere else (a second handler, a filter, a one-shot command, a test's
    log capture), it is an ordinary record."""
    if not logger.isEnabledFor(level):
        return
    handler = _sole_handler(logger)
    if isinstance(handler, BatchingHandler) and level >= handler.level and not handler.filters and handler.holds_here():
        handler.hold(HeldLine(time.time(), logging.getLevelName(level), logger.name, message, fields, _trace.get()))
    else:
        logger.log(level, "%s", message, extra=fields)


def _sole_handler(logger: logging.Logger) -> logging.Handler | None:
    """The one handler a line logged on `logger` reaches, when it reaches one and passes no filter."""
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


def write_held() -> None:
    """Write the lines the batching handler still holds (before a signal ends the process)."""
    handler = batching_handler()
    if handler is not None:
        handler.flush()


def choose_format(wanted: str, stream: Any) -> str:
    if wanted != "auto":
        return wanted
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def configure_logging(settings: Settings, stream: Any = None, *, batched: bool = False) -> logging.Handler:
    """Install the bot's one handler on the root logger (again: replaces the previous one).
    `batched` (`vorhoelle serve`): the lines logged on the server's event loop are written in
    batches (`BatchingHandler`); one-shot commands write every line at once."""
    stream = stream or sys.stderr
    fmt = choose_format(settings.logging.format, stream)
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    redactor = Redactor(secret_values(settings))
    handler: logging.Handler
    if batched:
        handler = BatchingHandler(stream, formatter, redactor)
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(RedactSecrets(formatter, redactor))
    handler.name = _HANDLER_NAME
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
        if isinstance(old, BatchingHandler):
            atexit.unregister(old.flush)
    root.addHandler(handler)
    if batched:
        # No line shows the caller's file, line, thread or process: spare every record of the
        # server's hot path finding them.
        logging._srcfile = None
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(settings.logging.level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
