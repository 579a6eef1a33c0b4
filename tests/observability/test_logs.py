"""Log lines: JSON for machines, text for people, the caller's extras as fields, secrets never."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import datetime

import pytest

from bot.logs import BatchingHandler, configure_logging, hot_line, tracing
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


def batched_test_log(interval: float) -> tuple[logging.Logger, BatchingHandler, io.StringIO, list[str]]:
    """A logger of its own with a batching handler; the stream's writes are counted."""
    stream, writes = io.StringIO(), []
    original = stream.write
    stream.write = lambda text: (writes.append(text), original(text))[1]   # type: ignore[method-assign]
    handler = BatchingHandler(stream, logging.Formatter("%(message)s"), interval=interval)
    log = logging.getLogger(f"bot.test.batching.{interval}")
    log.handlers[:], log.propagate = [handler], False
    log.setLevel(logging.INFO)
    return log, handler, stream, writes


def test_lines_logged_on_the_loop_are_held_and_written_together_in_order():
    """On the server's event loop a line is only held: one write per batch, not one per line. A
    line from another thread is written at once, after what is held; leaving the loop writes the
    rest."""
    log, handler, stream, writes = batched_test_log(interval=3600)   # the timer never comes here

    async def serve() -> None:
        with handler.batch_on_this_loop():
            log.info("one")
            log.info("two")
            assert stream.getvalue() == ""
            await asyncio.to_thread(log.info, "from a worker thread")
            assert stream.getvalue() == "one\ntwo\nfrom a worker thread\n" and len(writes) == 1
            log.info("three")
            assert stream.getvalue().count("\n") == 3
        assert stream.getvalue().endswith("from a worker thread\nthree\n")

    asyncio.run(serve())
    log.info("after the loop")   # no loop to batch on: written at once
    assert stream.getvalue().endswith("three\nafter the loop\n")


def test_the_loop_writes_what_it_holds_once_the_interval_is_over():
    """Also on a second loop, after the first ended with its timer still pending."""
    log, handler, stream, writes = batched_test_log(interval=3600)

    async def leave_a_timer_pending() -> None:
        with handler.batch_on_this_loop():
            log.info("written as the loop ends")

    async def serve() -> None:
        with handler.batch_on_this_loop():
            log.info("held")
            log.info("held too")
            assert stream.getvalue() == ""
            for _ in range(100):   # a few turns of the loop, no real time
                if stream.getvalue():
                    break
                await asyncio.sleep(0)
            assert stream.getvalue() == "held\nheld too\n" and len(writes) == 1

    asyncio.run(leave_a_timer_pending())
    assert stream.getvalue() == "written as the loop ends\n"
    stream.seek(0), stream.truncate(), writes.clear()
    handler.interval = 0
    asyncio.run(serve())


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
    batching handler stays on the root logger and must keep writing."""
    import uvicorn

    stream = io.StringIO()
    handler = configure_logging(load_settings(), stream, batched=True)
    uvicorn.Config(lambda scope, receive, send: None, log_level="warning")
    logging.getLogger("bot.test").warning("still written")
    handler.flush()
    assert "still written" in stream.getvalue()


@pytest.mark.parametrize("secret", ["made-up-secret-value", "made-up\nsecret over two lines"])
def test_lines_held_on_the_loop_are_redacted_together_and_hide_every_secret(secret):
    """`vorhoelle serve` redacts a batch in one pass; a secret that holds a line break is looked
    for line by line, so that no match reaches from one line into the next."""
    stream = io.StringIO()
    handler = configure_logging(load_settings(gitlab_token=TOKEN, webhook_secret=secret), stream, batched=True)
    log = logging.getLogger("bot.test")

    async def serve() -> None:
        with handler.batch_on_this_loop():
            log.info("nothing to hide")
            log.info("the secret %s", secret, extra={"header": f"Bearer {TOKEN}"})
            log.info("a pasted token %s and %s", "glpat-" + "AAAAbbbbCCCCdddd1234", SLACK)
            assert stream.getvalue() == ""

    asyncio.run(serve())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "nothing to hide", "the secret **********", "a pasted token ********** and **********"]
    assert lines[1]["header"] == "Bearer **********"
    assert secret not in stream.getvalue() and TOKEN not in stream.getvalue()


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()], ids=["json", "terminal"])
def test_a_hot_line_is_written_as_the_same_call_through_logging_would_be(stream, monkeypatch):
    """`hot_line` (the receiver's line per webhook) holds the line without a LogRecord when the
    batching handler is the only one listening; what it writes is what `logger.info` writes,
    trace included, in JSON and on a terminal."""
    fields = {"event": "Issue Hook", "issue": 7, "idempotency_key": "k-1", "outcome": "queued"}
    handler = configure_logging(load_settings(), stream, batched=True)
    log, records = logging.getLogger("bot.test.hot"), []
    monkeypatch.setattr(log, "handlers", [handler])   # pytest's own capture listens on the root logger
    monkeypatch.setattr(log, "propagate", False)
    make_record = log.makeRecord
    monkeypatch.setattr(log, "makeRecord", lambda *args: records.append(args) or make_record(*args))

    async def serve() -> None:
        with handler.batch_on_this_loop(), tracing("made-up-trace"):
            hot_line(log, logging.INFO, "webhook Issue Hook: queued (issue update)", fields)
            assert records == []   # held as it is
            log.info("%s", "webhook Issue Hook: queued (issue update)", extra=fields)
            assert len(records) == 1 and stream.getvalue() == ""   # both held

    asyncio.run(serve())
    held, logged = stream.getvalue().splitlines()
    if isinstance(stream, Terminal):
        assert held.partition(" ")[2] == logged.partition(" ")[2]   # all but the clock
        assert held.endswith("queued (issue update)  event=Issue Hook issue=7 idempotency_key=k-1 outcome=queued")
    else:
        held_json, logged_json = json.loads(held), json.loads(logged)
        assert held_json.pop("time") <= logged_json.pop("time")
        assert held_json == logged_json
        assert held_json["logging.googleapis.com/trace"] == "made-up-trace" and held_json["issue"] == 7


def test_a_hot_line_reaches_every_other_handler_and_honours_the_level(monkeypatch):
    stream, seen = io.StringIO(), []
    handler = configure_logging(load_settings(), stream, batched=True)
    log = logging.getLogger("bot.test.hot.listened")
    listener = logging.Handler()
    listener.emit = seen.append   # type: ignore[method-assign]
    monkeypatch.setattr(log, "handlers", [listener, handler])
    monkeypatch.setattr(log, "propagate", False)

    async def serve() -> None:
        with handler.batch_on_this_loop():
            hot_line(log, logging.INFO, "also for the listener", {"outcome": "ignored"})
            log.setLevel(logging.WARNING)
            hot_line(log, logging.INFO, "below the level", {})

    asyncio.run(serve())
    assert [(r.getMessage(), r.outcome) for r in seen] == [("also for the listener", "ignored")]
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["also for the listener"]
