"""The app `vorhoelle serve` listens with while the bot itself loads.

The socket opens as soon as the address is known (`bot.config.files.listen_address`), before the
settings model, python-gitlab and the bot's routes are imported: about half a second on a small
machine, during which a bot that had not listened yet would refuse connections. GitLab counts a
refused connection as a failed delivery, drops that event for good and disables the hook after
four, so the bot takes the connection and makes the request wait for it instead: while it loads,
`/health/live` (and `/health`) answers 200 "starting", `/health/ready` 503 "starting" (probes
must not hang), and every other request, a webhook above all, is held until the bot can answer it
itself (at most `hold_seconds`, then 503). Should loading fail (settings that cannot be used), held requests get
503 and the server stops; `failure` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse

LIVE_PROBES = {"/health/live", "/health"}
PROBES = LIVE_PROBES | {"/health/ready"}


class LoadingApp:
    """An ASGI app that answers from the first moment and hands over to the app `load` builds
    (in a worker thread) once that app's own lifespan has started."""

    def __init__(self, load: Callable[[], Starlette], *, hold_seconds: float = 30.0):
        self._load = load
        self._hold_seconds = hold_seconds
        self._own_state = SimpleNamespace(draining=False)
        self._loaded = asyncio.Event()
        self._loading = False
        self._bot_lifespan = contextlib.AsyncExitStack()
        self.app: Starlette | None = None
        self.failure: BaseException | None = None
        self.on_failure: Callable[[], None] = lambda: None

    @property
    def state(self) -> Any:
        """The bot's app state once it runs (`DrainingServer` marks it draining on SIGTERM)."""
        return self.app.state if self.app is not None else self._own_state

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        app = self.app
        if app is not None:   # loaded (its lifespan came before): every request after the first moments
            await app(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = await self._app_after_waiting(scope)
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "http":
            await self._not_yet(scope)(scope, receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        await receive()  # lifespan.startup: the server must listen now, not once the bot has loaded
        self._loading = True
        starting = asyncio.create_task(self._start_bot(), name="load-bot")
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        self._own_state.draining = True
        await starting  # a loading thread cannot be interrupted; it has a second's work at most
        await self._bot_lifespan.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    async def _start_bot(self) -> None:
        try:
            app = await asyncio.to_thread(self._load)
            if self._own_state.draining:
                return  # stopped while loading: the bot never starts, catch-up covers what it missed
            await self._bot_lifespan.enter_async_context(app.router.lifespan_context(app))
            # What loading made (modules, settings, the app) lives as long as the process: frozen,
            # it is out of the collector's sight, and a full collection does not walk it (that
            # walk takes ~0.1 s every few thousand webhooks, measured by bench/webhook_ack.py).
            gc.freeze()
            self.app = app
        except Exception as exc:  # handed to `vorhoelle serve`, which says what went wrong
            self.failure = exc
            self.on_failure()
        finally:
            self._loaded.set()

    async def _app_after_waiting(self, scope: dict[str, Any]) -> Starlette | None:
        """The bot's app once it has loaded, for a request that may wait for it (not a probe)."""
        if scope.get("path") in PROBES or not self._loading:
            return None
        try:
            await asyncio.wait_for(self._loaded.wait(), self._hold_seconds)
        except TimeoutError:
            return None
        return self.app

    def _not_yet(self, scope: dict[str, Any]) -> JSONResponse:
        if self.failure is not None or self._own_state.draining:
            error = "the bot could not start" if self.failure is not None else "shutting down"
            return JSONResponse({"error": error, "detail": None}, status_code=503)
        if scope["path"] in LIVE_PROBES:
            return JSONResponse({"status": "starting"})
        return JSONResponse({"status": "not ready", "error": "starting"}, status_code=503,
                            headers={"Retry-After": "1"})
