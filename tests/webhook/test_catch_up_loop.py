"""The server's catch-up loop against the sandbox: it keeps its schedule whatever one pass meets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.catch_up import CatchUpLoop
from bot.gitlab_access import GitLabError
from bot.queue import ConvergeQueue
from tests.support.bot import bot_runtime
from tests.support.world import World


class FailingOnceWatch:
    """A notifier health watch whose first check breaks with a bug."""

    def __init__(self) -> None:
        self.calls = 0

    def after_catch_up(self, gitlab: object, public_url: object, error: object) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("a bug in the health watch")


class Notifier:
    def __init__(self) -> None:
        self.watch = FailingOnceWatch()


@contextlib.asynccontextmanager
async def running(loop: CatchUpLoop) -> AsyncIterator[asyncio.Task]:
    """`loop` running beside a converge queue that converges nothing; both stopped at the end."""
    loop.runtime.queue = ConvergeQueue(lambda hint: None, max_parallel=1)
    await loop.runtime.queue.start()
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        task.cancel()
        await loop.runtime.queue.stop(1)


def test_a_pass_that_breaks_is_logged_and_the_next_pass_still_comes(world: World, caplog) -> None:
    runtime = bot_runtime(world, notifier=Notifier())

    async def scenario() -> int:
        loop = CatchUpLoop(runtime)
        async with running(loop) as task:
            while runtime.notifier.watch.calls < 1:
                await asyncio.sleep(0.01)
            loop.wake()
            while runtime.notifier.watch.calls < 2 and not task.done():
                await asyncio.sleep(0.01)
            return loop.passes

    with caplog.at_level(logging.ERROR, logger="bot.catch_up"):
        passes = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert passes == 2
    assert any("a bug in the health watch" in r.getMessage() + str(r.exc_info) for r in caplog.records)


def test_a_full_reconcile_that_gitlab_fails_is_said_and_not_left_unretrieved(world: World, monkeypatch, caplog) -> None:
    """A revoked token met by the full reconcile in its worker thread: a warning and the reason
    on /health/ready's catch-up details, not a task whose exception nobody reads."""
    runtime = bot_runtime(world)

    def revoked(*args: object, **kwargs: object) -> None:
        raise GitLabError(401, "401 Unauthorized")

    async def scenario() -> asyncio.Task | None:
        loop = CatchUpLoop(runtime)
        monkeypatch.setattr(loop.reconciler, "run", revoked)
        monkeypatch.setattr(loop.catch_up, "reconcile_due", lambda: True)
        async with running(loop) as task:
            while (loop.reconciling is None or not loop.reconciling.done()) and not task.done():
                await asyncio.sleep(0.01)
            assert loop.last_error == "the full reconcile failed: GitLab answered 401: 401 Unauthorized"
            return loop.reconciling

    with caplog.at_level(logging.WARNING, logger="bot.catch_up"):
        reconciling = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert reconciling is not None and reconciling.exception() is None
    assert any(r.levelno == logging.WARNING and "full reconcile: GitLab answered 401" in r.getMessage()
               for r in caplog.records)
