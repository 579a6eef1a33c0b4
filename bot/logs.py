"""Log lines an operator can read on a terminal and a machine can parse everywhere else.

`configure_logging(settings)` sets up the root logger once: JSON lines when stderr is not a
terminal (a container, a service), `HH:MM:SS LEVEL logger message key=value` on a terminal;
`logging.format` (auto, json, text) chooses explicitly. Modules log with their own logger and say
what happened to which issue through `extra=`:

    log.info("converged", extra={"event": "converge", "issue": 12, "outcome": "ok"})

Every line passes `RedactSecrets` first, so a token that slips into a message, an extra or a
traceback is printed as `**********`.

For `vorhoelle serve`, formatting, redaction and the write happen off the event loop: the root
logger's handler only puts the record on a queue (`OffThreadHandler`), and a `QueueListener`
thread formats and writes it, so a webhook's log line costs the loop little more than making the
record. The listener is stopped, and what it still holds written, when the process exits
(`atexit`); `flush()` waits for it (tests read the stream right after logging).
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import re
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Iterable

from bot.config.settings import MASK, Settings, secret_values

# Token shapes worth hiding even when they are not (or no longer) in the settings: GitLab
# personal/project/deploy/runner tokens and Slack tokens.
_KNOWN_TOKEN_SHAPES = r"\b(?:glpat|glptt|gldt|glrt|gloas)-[0-9A-Za-z_\-]{10,}|\bxox[abpres]-[0-9A-Za-z\-]{10,}"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Libraries that log every request or connection; the bot logs one line per webhook itself.
_QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "urllib3", "asyncio")
_HANDLER_NAME = "vorhoelle"


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


class RedactSecrets(logging.Filter):
    """Replace every secret value in a record's message, extras and traceback with the mask."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        known = sorted({re.escape(s) for s in secrets if s}, key=len, reverse=True)
        self._pattern = re.compile("|".join([*known, _KNOWN_TOKEN_SHAPES]))

    def redact(self, text: str) -> str:
        return self._pattern.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        for key, value in extras(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extras(record),
        }
        if record.exc_text:
            line["exception"] = record.exc_text
        elif record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


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


class _Flushed(logging.LogRecord):
    """Not a line: a mark the listener reaches once everything queued before it is written."""

    def __init__(self) -> None:
        super().__init__("", logging.NOTSET, "", 0, "", None, None)
        self.written = threading.Event()


class _Listener(logging.handlers.QueueListener):
    def handle(self, record: logging.LogRecord) -> None:
        if isinstance(record, _Flushed):
            record.written.set()
        else:
            super().handle(record)


class OffThreadHandler(logging.handlers.QueueHandler):
    """Hands records to a `QueueListener` thread that formats and writes them.

    Unlike the standard library's `QueueHandler` it does not format the record first (that is the
    work being moved off the event loop): the listener formats the record itself. The arguments
    of a log call are formatted a moment later than the call; the bot passes strings and numbers.
    A `SimpleQueue` (no condition variable, no task counting) keeps the hand-over cheap."""

    def __init__(self, target: logging.Handler) -> None:
        super().__init__(queue.SimpleQueue())
        self.listener = _Listener(self.queue, target, respect_handler_level=True)
        self.listener.start()
        self._listening = True
        atexit.register(self.close)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def flush(self) -> None:
        """Wait until every record handed over so far has been written."""
        if self._listening:
            mark = _Flushed()
            self.queue.put_nowait(mark)
            mark.written.wait()

    def close(self) -> None:
        if self._listening:
            self._listening = False
            self.listener.stop()   # writes what is still queued
        atexit.unregister(self.close)
        super().close()


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
    writer.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    writer.addFilter(RedactSecrets(secret_values(settings)))
    handler: logging.Handler = OffThreadHandler(writer) if off_thread else writer
    handler.name = _HANDLER_NAME
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
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
