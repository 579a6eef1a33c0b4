"""Log lines: JSON for machines, text for people, the caller's extras as fields, secrets never."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
import threading

import pytest

from bot.logs import configure_logging
from bot.config.settings import load_settings

# Made up, in the real shapes the redaction must recognise; joined at run time so that secret
# scanners reading the source do not take them for leaked tokens.
TOKEN = "glpat-" + "Zx9qWm4TtY7uPa2bKc1d"
SLACK = "xoxb-" + "made-up-slack-token-000"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            getattr(handler, "stop", handler.close)()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_extras_and_hide_every_secret(monkeypatch):
    monkeypatch.setenv("VORHOELLE_SLACK_TOKEN", SLACK)
    stream = io.StringIO()  # not a terminal: "auto" means JSON
    handler = configure_logging(load_settings(gitlab_token=TOKEN), stream)
    log = logging.getLogger("bot.converge")
    log.info("converged issue %s", 12, extra={"event": "converge", "issue": 12, "idempotency_key": "k-1",
                                               "outcome": "ok"})
    log.warning("GitLab said no to %s", f"PRIVATE-TOKEN: {TOKEN}", extra={"header": f"Bearer {SLACK}"})
    try:
        raise RuntimeError(f"request with {TOKEN} failed")
    except RuntimeError:
        log.exception("converge failed", extra={"issue": 13, "outcome": "error"})
    handler.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert (first["severity"], first["logger"], first["message"]) == ("INFO", "bot.converge", "converged issue 12")
    assert [line["severity"] for line in lines] == ["INFO", "WARNING", "ERROR"]
    assert datetime.fromisoformat(first["time"]).tzinfo is not None and "logging.googleapis.com/trace" not in first
    assert {k: first[k] for k in ("event", "issue", "idempotency_key", "outcome")} == {
        "event": "converge", "issue": 12, "idempotency_key": "k-1", "outcome": "ok"}
    assert lines[1]["message"] == "GitLab said no to PRIVATE-TOKEN: **********"
    assert lines[1]["header"] == "Bearer **********"
    assert "RuntimeError: request with ********** failed" in lines[2]["exception"]
    assert TOKEN not in stream.getvalue() and SLACK not in stream.getvalue()


def test_gitlab_shaped_tokens_are_hidden_even_when_not_configured():
    stream = io.StringIO()
    configure_logging(load_settings(), stream)
    logging.getLogger("bot.test").info("someone pasted %s here", "glpat-" + "AAAAbbbbCCCCdddd1234")
    logging.getLogger().handlers[-1].flush()
    assert json.loads(stream.getvalue())["message"] == "someone pasted ********** here"


def test_a_terminal_gets_readable_lines_and_the_level_is_honoured():
    stream = Terminal()
    handler = configure_logging(load_settings(logging={"level": "warning"}), stream)
    log = logging.getLogger("bot.web.webhook")
    log.info("not shown")
    log.warning("webhook Note Hook: refused", extra={"event": "Note Hook", "outcome": "unauthorized"})
    handler.flush()
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING bot.web.webhook  webhook Note Hook: refused  event=Note Hook outcome=unauthorized")


def test_a_line_is_written_off_the_logging_thread_and_flushed_at_close():
    """The caller only hands the record over; the writer thread writes it, and closing writes
    what is still held; the handler keeps working after a close (dictConfig closes it)."""
    stream = io.StringIO()
    handler = configure_logging(load_settings(), stream, off_thread=True)
    writers: list[str] = []
    original = stream.write
    stream.write = lambda text: (writers.append(threading.current_thread().name), original(text))[1]
    logging.getLogger("bot.test").warning("queued, then written")
    handler.close()
    assert "queued, then written" in stream.getvalue()
    assert writers and threading.current_thread().name not in writers
    logging.getLogger("bot.test").warning("after a close")
    handler.flush()
    assert "after a close" in stream.getvalue()


def test_configuring_twice_keeps_one_handler():
    first, second = io.StringIO(), io.StringIO()
    configure_logging(load_settings(), first)
    handler = configure_logging(load_settings(logging={"format": "text"}), second)
    logging.getLogger("bot.test").warning("once")
    handler.flush()
    assert first.getvalue() == "" and second.getvalue().count("once") == 1


def test_a_secret_is_hidden_also_where_the_json_line_escapes_it():
    odd = 'made-up"token\\with-quote'
    stream = io.StringIO()
    configure_logging(load_settings(gitlab_token=odd), stream)
    logging.getLogger("bot.test").warning("token %s", odd, extra={"header": odd})
    line = json.loads(stream.getvalue())
    assert line["message"] == "token **********" and line["header"] == "**********"


def test_lines_still_come_after_uvicorn_configures_logging():
    """uvicorn's dictConfig closes every handler (the embedded sandbox starts one): the bot's
    off-thread handler stays on the root logger and must keep writing."""
    import uvicorn

    stream = io.StringIO()
    handler = configure_logging(load_settings(), stream, off_thread=True)
    uvicorn.Config(lambda scope, receive, send: None, log_level="warning")
    logging.getLogger("bot.test").warning("still written")
    handler.flush()
    assert "still written" in stream.getvalue()
