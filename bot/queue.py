"""The per-issue converge queue: one converge at a time per issue, several issues at once.

A webhook or a catch-up pass only says "issue N may have changed". Hints for an issue are run in
the order they came, never two at once for one issue; a hint for an issue that is already waiting
joins it (one converge answers both, since converge reads the whole issue afresh). A converge of an
issue starts at most once every `spacing` seconds: the first hint of a burst (GitLab sends a Note
Hook and an Issue Hook for one comment command; a replay sends dozens) is converged at once, the
rest of the burst waits out the spacing and is answered by one more converge, which spares GitLab
the reads of converges that would find nothing new. Different issues run in parallel up to
`max_parallel`. Converge is synchronous (python-gitlab), so it runs in a worker thread. A failed
converge is logged and tried once more after `retry_delay` (`server.converge_retry_seconds`);
after that the issue is left to the next catch-up pass, which finds it because it is still
"updated since".

Time comes from a `Timers` (`LoopTimers`, the event loop's clock, unless a test hands in its own),
so spacing and retries can be tested without waiting for them.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import msgspec

from bot import metrics

log = logging.getLogger(__name__)


class Hint(msgspec.Struct, frozen=True, gc=False):
    """Why an issue should be converged, carried along for the log line and recursion header.
    (A msgspec Struct: one is made for every delivery, in a quarter of a named tuple's time.)"""

    iid: int
    event: str
    event_uuid: str | None = None
    idempotency_key: str | None = None


@dataclass
class _Entry:
    hint: Hint
    waiters: list[asyncio.Future[bool]] = field(default_factory=list)
    attempt: int = 1


Converge = Callable[[Hint], Any]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """The queue's clock: what time it is and "call this in so many seconds"."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> Timer: ...


class LoopTimers:
    """The running event loop's monotonic clock and timers."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback, *args)


class ConvergeQueue:
    def __init__(self, converge: Converge, *, max_parallel: int, retry_delay: float = 30.0,
                 spacing: float = 0.0, timers: Timers | None = None):
        self._converge = converge
        self._timers: Timers = timers or LoopTimers()
        self._max_parallel = max_parallel
        self._retry_delay = retry_delay
        self._spacing = spacing
        self._waiting: dict[int, _Entry] = {}
        self._running: set[int] = set()
        self._last_started: dict[int, float] = {}   # only issues started within `spacing`
        self._spaced: dict[int, Timer] = {}
        self._retries: dict[int, tuple[Timer, _Entry]] = {}
        self._ready: asyncio.Queue[int | None] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._threads: list[WorkerThread] = []
        self._accepting = False
        self.stats: collections.Counter[str] = collections.Counter()

    async def start(self) -> None:
        self._accepting = True
        self._threads = [WorkerThread(f"converge-{n}") for n in range(self._max_parallel)]
        self._workers = [
            asyncio.create_task(self._work(thread), name=f"converge-worker-{n}")
            for n, thread in enumerate(self._threads)
        ]

    @property
    def accepting(self) -> bool:
        return self._accepting

    @property
    def idle(self) -> bool:
        """Nothing waiting, running or due for a retry (tests poll this)."""
        return not (self._waiting or self._running or self._retries)

    def submit(self, hint: Hint) -> asyncio.Future[bool]:
        """Ask for a converge of `hint.iid`. The future says whether the converge that covered
        this hint succeeded; nobody has to wait for it."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._accepting:
            future.set_result(False)
            return future
        self.stats["submitted"] += 1
        self._enqueue(hint, [future])
        return future

    def hint(self, hint: Hint) -> None:
        """`submit` for a caller that does not wait for the outcome (the webhook receiver): no
        future is made for it, so a burst of deliveries for one issue leaves none behind."""
        if self._accepting:
            self.stats["submitted"] += 1
            self._enqueue(hint, ())

    def _enqueue(self, hint: Hint, waiters: Sequence[asyncio.Future[bool]], attempt: int = 1) -> None:
        iid = hint.iid
        waiting = self._waiting.get(iid)
        if waiting is not None:
            self.stats["coalesced"] += 1
            # The newest hint names the newest event chain, and was never tried: the entry is a
            # first attempt again. A retry joining a fresh hint adds only its waiters.
            if attempt == 1:
                waiting.hint, waiting.attempt = hint, 1
            waiting.waiters.extend(waiters)
            return
        self._waiting[iid] = _Entry(hint, list(waiters), attempt)
        metrics.QUEUE_DEPTH.set(len(self._waiting))
        if iid not in self._running:
            self._make_ready(iid)

    def _make_ready(self, iid: int) -> None:
        """Hand `iid` to a worker now, or once `spacing` has passed since its last start."""
        if iid in self._spaced:
            return
        last = self._last_started.get(iid)
        wait = 0.0 if last is None else last + self._spacing - self._timers.now()
        if wait <= 0:
            self._ready.put_nowait(iid)
            return
        self.stats["spaced"] += 1
        self._spaced[iid] = self._timers.call_later(wait, self._spacing_over, iid)

    def _spacing_over(self, iid: int) -> None:
        del self._spaced[iid]
        if iid in self._waiting and iid not in self._running:
            self._ready.put_nowait(iid)

    async def _work(self, thread: WorkerThread) -> None:
        while (iid := await self._ready.get()) is not None:
            entry = self._waiting.pop(iid, None)
            metrics.QUEUE_DEPTH.set(len(self._waiting))
            if entry is None:
                continue
            self._running.add(iid)
            self._note_start(iid)
            try:
                await self._run(entry, thread)
            finally:
                self._running.discard(iid)
                if iid in self._waiting and self._accepting:
                    self._make_ready(iid)

    def _note_start(self, iid: int) -> None:
        if self._spacing > 0:
            self._last_started[iid] = self._timers.now()
            self._timers.call_later(self._spacing, self._forget_start, iid, self._last_started[iid])

    def _forget_start(self, iid: int, started: float) -> None:
        if self._last_started.get(iid) == started:
            del self._last_started[iid]

    async def _run(self, entry: _Entry, thread: WorkerThread) -> None:
        hint = entry.hint
        context = {"event": hint.event, "issue": hint.iid, "idempotency_key": hint.idempotency_key}
        started = time.perf_counter()
        try:
            result = await thread.run(self._converge, hint)
        except Exception as exc:
            metrics.CONVERGE_DURATION.labels(outcome="error").observe(time.perf_counter() - started)
            self.stats["failed"] += 1
            self._after_failure(entry, exc, context)
            return
        metrics.CONVERGE_DURATION.labels(outcome="ok").observe(time.perf_counter() - started)
        self.stats["converged"] += 1
        log.info(
            "converged issue #%s after %s: %s", hint.iid, hint.event, describe(result),
            extra={**context, "outcome": "converged"},
        )
        _resolve(entry.waiters, True)

    def _after_failure(self, entry: _Entry, exc: Exception, context: dict[str, Any]) -> None:
        iid = entry.hint.iid
        if entry.attempt == 1 and self._accepting:
            log.warning(
                "converge of issue #%s failed (%s: %s); trying again in %ss",
                iid, type(exc).__name__, exc, self._retry_delay,
                extra={**context, "outcome": "retry"},
            )
            retry = msgspec.structs.replace(entry.hint, event=f"retry of {entry.hint.event}")
            again = _Entry(retry, entry.waiters, attempt=2)
            handle = self._timers.call_later(self._retry_delay, self._retry, again)
            self._retries[iid] = (handle, again)
            return
        log.error(
            "converge of issue #%s failed again (%s: %s); left for the next catch-up pass",
            iid, type(exc).__name__, exc, exc_info=exc, extra={**context, "outcome": "failed"},
        )
        _resolve(entry.waiters, False)

    def _retry(self, entry: _Entry) -> None:
        self._retries.pop(entry.hint.iid, None)
        self.stats["retried"] += 1
        self._enqueue(entry.hint, entry.waiters, entry.attempt)

    async def stop(self, grace: float) -> list[int]:
        """Take no more hints, let converges in hand finish within `grace` seconds, and return
        the issues given up on (the next catch-up pass covers them)."""
        self._accepting = False
        for handle, _ in self._retries.values():
            handle.cancel()
        for handle in self._spaced.values():
            handle.cancel()
        self._spaced.clear()
        left = set(self._waiting) | set(self._retries)
        for entry in [*self._waiting.values(), *(entry for _, entry in self._retries.values())]:
            _resolve(entry.waiters, False)
        self._waiting.clear()
        self._retries.clear()
        metrics.QUEUE_DEPTH.set(0)
        for _ in self._workers:
            self._ready.put_nowait(None)
        if self._workers:
            _, unfinished = await asyncio.wait(self._workers, timeout=grace)
            left |= self._running  # still converging when the grace ran out
            for task in unfinished:
                task.cancel()
        for thread in self._threads:
            thread.stop()
        if left:
            log.warning("stopped with issues %s not converged; catch-up will cover them", sorted(left))
        return sorted(left)


def describe(result: Any) -> str:
    """One line about a `ConvergeResult` (bot/converge.py), for logs and the CLI."""
    if getattr(result, "skipped", None):
        return f"left alone: {result.skipped}"
    effects = getattr(result, "effects", None)
    if effects is None:
        return str(result)
    state = f"state {result.final_state}" if getattr(result, "final_state", None) else "no state"
    if not effects:
        return f"nothing owed, {state}"
    return f"{state} after {len(effects)} writes: " + "; ".join(e.detail for e in effects)


def _resolve(waiters: list[asyncio.Future[bool]], ok: bool) -> None:
    for future in waiters:
        if not future.done():
            future.set_result(ok)


class WorkerThread:
    """A queue worker's own thread for its converges, started with the first and kept: starting
    a thread makes the event loop wait until the thread runs (about a millisecond per converge
    on a busy machine, measured under bench/webhook_ack.py's load). Like asyncio.to_thread
    otherwise, but a daemon thread: a converge still running when the shutdown grace ends must
    not hold the process (converge is safe to abandon half-way)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """`fn(*args)` in this thread, after what it was given before; the future (of the
        running loop) gets its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(setter: Callable[[Any], None], value: Any) -> None:
            if not future.done():
                setter(value)

        def job() -> None:
            try:
                outcome = (future.set_result, fn(*args))
            except BaseException as exc:  # handed to the awaiting task, not swallowed
                outcome = (future.set_exception, exc)
            try:
                loop.call_soon_threadsafe(settle, *outcome)
            except RuntimeError:  # the loop closed while we ran: nobody is waiting any more
                pass

        self._jobs.put(job)
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        return future

    def stop(self) -> None:
        """End the thread once it has done what it was given."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()
