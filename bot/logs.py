"""Log lines an operator can read on a terminal and a machine can parse everywhere else.

`configure_logging(settings)` sets up the root logger once: JSON lines when stderr is not a
terminal (a container, a service), `HH:MM:SS LEVEL logger message key=value` on a terminal;
`logging.format` (auto, json, text) chooses explicitly. The JSON names its fields as Google Cloud
Logging reads them (`severity`, `message`, `time`, and `logging.googleapis.com/trace` for a line
written while answering a request that carried a trace header), so one format serves Cloud Run
and `jq` alike. Modules log with their own logger and say
what happened to which issue through `extra=`:

    log.info("converged", extra={"event": "converge", "issue": 12, "outcome": "ok"})

Every line passes `RedactSecrets` first, so a token that slips into a message, an extra or a
traceback is printed as `**********`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable

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
    """One JSON object per line: time, severity, logger, message, the trace, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "severity": record.levelname,  # Python's level names are Cloud Logging's, CRITICAL too
            "logger": record.name,
            "message": record.getMessage(),
            **extras(record),
        }
        trace = _trace.get()
        if trace:
            line[TRACE_FIELD] = trace
        if record.exc_info or record.exc_text:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
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


def choose_format(wanted: str, stream: Any) -> str:
    if wanted != "auto":
        return wanted
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Install the bot's one handler on the root logger (again: replaces the previous one)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.name = _HANDLER_NAME
    fmt = choose_format(settings.logging.format, stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactSecrets(secret_values(settings)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.logging.level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
