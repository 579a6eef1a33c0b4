"""The bot's web application: the routes of every module in `ROUTE_MODULES`, and a lifespan that
starts the converge queue, the catch-up loop and the notification flush, and stops them
gracefully (converges in hand get `server.shutdown_grace_seconds`; the rest is left to catch-up).

A module joins the app by exposing `routes() -> list[BaseRoute]` and being named below.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from bot.config import project_file
from bot.catch_up import CatchUpLoop
from bot.followup.sweep import sweep
from bot.logs import lines_batched_on_this_loop, trace_in, tracing
from bot.runtime import Runtime
from bot.web.server import shutdown_budget
from bot.web.webhook import PATH as WEBHOOK_PATH, Receiver

log = logging.getLogger(__name__)

ROUTE_MODULES = ["bot.web.webhook", "bot.web.health", "bot.metrics", "bot.api", "bot.actions",
                 "bot.web.settings_page"]
NOTIFY_FLUSH_SECONDS = 30


def create_app(runtime: Runtime) -> Starlette:
    routes = [route for name in ROUTE_MODULES for route in importlib.import_module(name).routes()]
    app = BotApp(
        runtime,
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(TraceRequests)],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.runtime = runtime
    app.state.draining = False
    return app


class BotApp(Starlette):
    """The bot's app, which hands `POST /webhook` to its receiver (bot/web/webhook.py) before
    its middleware and router: every delivery passes here, and Starlette's error middleware, the
    trace middleware and the router cost a delivery about a tenth of the receiver's own work
    (bench/README.md). The receiver answers its own errors and sets its own trace."""

    def __init__(self, runtime: Runtime, **starlette: Any) -> None:
        super().__init__(**starlette)
        shared: dict[str, Any] = {}   # what `app.state` holds, read by the receiver as a plain dict
        self.state = State(shared)
        self.receiver = Receiver(runtime, shared)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            await self.receiver(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class TraceRequests:
    """Lines logged while answering a request carry the trace its headers name, so that Cloud
    Logging files them under that request (bot/logs.py)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        trace = trace_in(scope.get("headers", ()))
        if trace is None:  # most requests: nothing to set
            return await self.app(scope, receive, send)
        with tracing(trace):
            await self.app(scope, receive, send)


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own 404/405 as JSON, like every other error the bot gives."""
    return JSONResponse({"error": error.detail, "detail": None}, status_code=error.status_code,
                        headers=error.headers)


async def internal_error(request: Request, error: Exception) -> JSONResponse:
    """A bug still answers in JSON; the traceback goes to the log (uvicorn logs it)."""
    return JSONResponse({"error": "internal error", "detail": type(error).__name__}, status_code=500)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    await asyncio.to_thread(project_file.reload, runtime)  # the project's .vorhoelle.yml, if any
    await runtime.hints.start()
    app.state.catch_up = CatchUpLoop(runtime)
    tasks = [asyncio.create_task(app.state.catch_up.run(), name="catch-up")]
    if runtime.settings.replies.transport != "off":  # the mailbox, read on its own timer
        from bot.replies.loop import RepliesLoop

        app.state.replies = RepliesLoop(runtime)
        tasks.append(asyncio.create_task(app.state.replies.run(), name="replies"))
    if runtime.notifier is not None:
        flush = lambda: asyncio.to_thread(runtime.notifier.flush_due)  # noqa: E731
        tasks.append(asyncio.create_task(every(NOTIFY_FLUSH_SECONDS, flush), name="notify-flush"))
    if runtime.settings.follow_up.enabled:
        remind = lambda: asyncio.to_thread(sweep, runtime)  # noqa: E731
        tasks.append(asyncio.create_task(every(runtime.settings.catch_up.interval_minutes * 60, remind), name="remind"))
    log.info("bot started: watching %s on %s", runtime.settings.project, runtime.settings.gitlab_url)
    try:
        with lines_batched_on_this_loop():
            yield
    finally:
        app.state.draining = True
        for task in tasks:
            task.cancel()
        grace = runtime.settings.server.shutdown_grace_seconds
        left = await runtime.hints.stop(shutdown_budget(app.state, grace))
        log.info("bot stopped; %d issues left for the next catch-up%s", len(left), since_signal(app.state, grace))


def since_signal(state: object, grace: float) -> str:
    """`, 7.5 s after the signal (grace 8 s)` when a signal stopped the bot."""
    deadline = getattr(state, "shutdown_deadline", None)
    if deadline is None:
        return ""
    return f", {time.monotonic() - (deadline - grace):.1f} s after the signal (grace {grace:g} s)"


async def every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` every `seconds`; a failure is logged and the next round comes anyway."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
