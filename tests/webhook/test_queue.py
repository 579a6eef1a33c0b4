"""The converge queue on its own: order per issue, coalescing, bounded parallelism, one retry,
spacing, graceful stop. The converge here is a recording function whose progress the test
controls, and the queue's clock is a `FakeTimers` the test moves: no test waits for time."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from bot.queue import ConvergeQueue, Hint
from tests.fakes.timers import FakeTimers


async def until(predicate, timeout: float = 10) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), timeout)


class Recorder:
    """A converge that records what ran, can be held at a gate, and can fail on request."""

    def __init__(self, fail_times: int = 0):
        self.gate = threading.Event()
        self.gate.set()
        self.calls: list[Hint] = []
        self.running: Counter[int] = Counter()
        self.most_at_once = 0
        self.overlap_on_one_issue = False
        self.fail_times = fail_times
        self._lock = threading.Lock()

    def __call__(self, hint: Hint) -> str:
        with self._lock:
            self.calls.append(hint)
            self.running[hint.iid] += 1
            self.overlap_on_one_issue |= self.running[hint.iid] > 1
            self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        try:
            assert self.gate.wait(10), "test never opened the gate"
            with self._lock:
                if self.fail_times:
                    self.fail_times -= 1
                    raise RuntimeError("GitLab answered 502")
            return f"converged #{hint.iid}"
        finally:
            with self._lock:
                self.running[hint.iid] -= 1


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


async def started(max_parallel: int, *, held: bool = False, **options) -> tuple[Recorder, ConvergeQueue]:
    """A running queue over a Recorder; `held`: converges wait at the gate until the test opens it.
    Pass `timers=FakeTimers()` to move the queue's clock by hand."""
    converge = Recorder(fail_times=options.pop("fail_times", 0))
    queue = ConvergeQueue(converge, max_parallel=max_parallel, **options)
    await queue.start()
    if held:
        converge.gate.clear()
    return converge, queue


async def hold_one(converge: Recorder, queue: ConvergeQueue, hint: Hint) -> asyncio.Future[bool]:
    """Submit `hint` and return once its converge is running (and held at the gate)."""
    future = queue.submit(hint)
    await until(lambda: converge.running[hint.iid] == 1)
    return future


def test_hints_for_a_waiting_issue_coalesce_and_one_issue_never_runs_twice_at_once():
    async def scenario():
        converge, queue = await started(4, held=True)
        first = await hold_one(converge, queue, Hint(1, "Issue Hook", event_uuid="a"))
        later = [queue.submit(Hint(1, "Note Hook", event_uuid=u)) for u in "bcd"]
        converge.gate.set()
        assert await first is True and all(await asyncio.gather(*later))
        await queue.stop(1)
        return converge, queue

    converge, queue = run(scenario())
    assert [h.event_uuid for h in converge.calls] == ["a", "d"]  # the newest hint names the chain
    assert not converge.overlap_on_one_issue
    assert queue.stats["coalesced"] == 2 and queue.stats["converged"] == 2


def test_hints_nobody_waits_for_coalesce_like_submitted_ones_and_are_refused_after_the_stop():
    """The receiver's way in (`hint`): no future, the same coalescing, nothing taken once stopped."""
    async def scenario():
        converge, queue = await started(2, held=True)
        await hold_one(converge, queue, Hint(1, "Issue Hook", event_uuid="a"))
        for uuid in "bcd":
            queue.hint(Hint(1, "Note Hook", event_uuid=uuid))
        converge.gate.set()
        await until(lambda: queue.idle)
        await queue.stop(1)
        queue.hint(Hint(2, "Issue Hook", event_uuid="e"))
        return converge, queue

    converge, queue = run(scenario())
    assert [h.event_uuid for h in converge.calls] == ["a", "d"]
    assert queue.stats["submitted"] == 4 and queue.stats["coalesced"] == 2 and queue.idle


def test_different_issues_run_in_parallel_up_to_the_bound():
    async def scenario():
        converge, queue = await started(2, held=True)
        futures = [queue.submit(Hint(iid, "Issue Hook")) for iid in range(1, 6)]
        await until(lambda: sum(converge.running.values()) == 2)
        assert not queue.idle
        converge.gate.set()
        assert all(await asyncio.gather(*futures))
        assert queue.idle
        await queue.stop(1)
        return converge

    converge = run(scenario())
    assert converge.most_at_once == 2
    assert sorted(h.iid for h in converge.calls) == [1, 2, 3, 4, 5]


def test_converges_run_in_the_workers_own_threads_which_end_with_the_queue():
    threads: set[threading.Thread] = set()
    converged: list[Hint] = []

    def converge(hint: Hint) -> str:
        threads.add(threading.current_thread())
        converged.append(hint)
        return f"converged #{hint.iid}"

    async def scenario():
        queue = ConvergeQueue(converge, max_parallel=2)
        await queue.start()
        assert all(await asyncio.gather(*(queue.submit(Hint(iid, "Issue Hook")) for iid in range(1, 9))))
        assert all(await asyncio.gather(*(queue.submit(Hint(iid, "Note Hook")) for iid in range(1, 9))))
        await queue.stop(1)

    run(scenario())
    assert len(converged) == 16            # every hint converged, each in one of the two workers' threads:
    assert 1 <= len(threads) <= 2          # a thread per converge would have made up to 16
    assert all(t.daemon and t.name.startswith("converge-") for t in threads)
    assert threading.main_thread() not in threads
    for thread in threads:
        thread.join(10)   # stop() ends them once their work is done
        assert not thread.is_alive()


def test_a_failed_converge_is_retried_once_then_left_for_catch_up():
    async def scenario(fail_times):
        timers = FakeTimers()
        converge, queue = await started(1, retry_delay=30, fail_times=fail_times, timers=timers)
        done = queue.submit(Hint(3, "Emoji Hook"))
        await until(lambda: queue.stats["failed"] == 1)
        timers.advance(29.9)
        assert len(converge.calls) == 1 and not done.done()   # the retry waits its delay
        timers.advance(0.1)
        ok = await done
        await until(lambda: queue.idle)
        await queue.stop(1)
        return ok, converge, queue

    ok, converge, queue = run(scenario(fail_times=1))
    assert ok is True and len(converge.calls) == 2 and converge.calls[1].event == "retry of Emoji Hook"
    ok, converge, queue = run(scenario(fail_times=5))
    assert ok is False and len(converge.calls) == 2
    assert queue.stats["failed"] == 2 and queue.stats["retried"] == 1


def test_a_new_hint_that_joins_a_waiting_retry_gets_a_retry_of_its_own():
    """Issue 1's retry waits behind issue 2 when a new event for issue 1 arrives: the new event
    was never tried, so a failure of the converge that covers it earns the usual retry."""

    async def scenario():
        timers = FakeTimers()
        converge, queue = await started(1, retry_delay=30, fail_times=1, timers=timers)
        queue.submit(Hint(1, "Issue Hook"))
        await until(lambda: queue.stats["failed"] == 1)
        converge.gate.clear()
        await hold_one(converge, queue, Hint(2, "Issue Hook"))
        timers.advance(30)
        assert queue.stats["retried"] == 1  # issue 1's retry now waits for the worker
        fresh = queue.submit(Hint(1, "Note Hook"))
        converge.fail_times = 2  # issue 2 fails, then the converge covering issue 1's two hints
        converge.gate.set()
        await until(lambda: queue.stats["failed"] == 3)
        timers.advance(30)   # the retries of both
        ok = await fresh
        await until(lambda: queue.idle)
        await queue.stop(1)
        return ok, converge

    ok, converge = run(scenario())
    assert ok is True
    assert [h.event for h in converge.calls if h.iid == 1] == ["Issue Hook", "Note Hook", "retry of Note Hook"]


def test_stop_gives_up_on_waiting_issues_and_on_converges_past_the_grace():
    async def scenario():
        converge, queue = await started(1, held=True)
        running = await hold_one(converge, queue, Hint(1, "Issue Hook"))
        waiting = queue.submit(Hint(2, "Issue Hook"))
        left = await queue.stop(grace=0.05)
        refused = queue.submit(Hint(3, "Issue Hook"))
        converge.gate.set()
        return left, await waiting, await refused, running

    left, waiting_ok, refused_ok, running = run(scenario())
    assert left == [1, 2]
    assert waiting_ok is False and refused_ok is False


def test_stop_waits_for_the_converge_in_hand_within_the_grace():
    async def scenario():
        converge, queue = await started(1, held=True)
        running = await hold_one(converge, queue, Hint(1, "Issue Hook"))
        stopping = asyncio.create_task(queue.stop(grace=10))
        await asyncio.sleep(0)
        converge.gate.set()
        return await stopping, await running

    left, ok = run(scenario())
    assert left == [] and ok is True


def test_a_burst_for_one_issue_is_converged_at_once_and_once_more_after_the_spacing():
    """The first hint runs at once; the ten that follow within the spacing wait it out and are
    answered by one converge, which starts no sooner than `spacing` after the first."""

    async def scenario():
        timers = FakeTimers()
        converge, queue = await started(2, spacing=0.3, timers=timers)
        first = queue.submit(Hint(7, "Note Hook", event_uuid="first"))
        assert await first is True
        timers.advance(0.1)
        burst = [queue.submit(Hint(7, "Issue Hook", event_uuid=str(n))) for n in range(10)]
        other = queue.submit(Hint(8, "Issue Hook"))
        assert await other is True and len(converge.calls) == 2   # another issue is not held back
        timers.advance(0.19)
        assert len(converge.calls) == 2 and not any(f.done() for f in burst)   # spacing not over
        timers.advance(0.01)   # 0.3 after the first converge started
        assert all(await asyncio.gather(*burst))
        await until(lambda: queue.idle)
        await queue.stop(1)
        return converge, queue

    converge, queue = run(scenario())
    assert [(h.iid, h.event_uuid) for h in converge.calls] == [(7, "first"), (8, None), (7, "9")]
    assert queue.stats["spaced"] == 1 and queue.stats["converged"] == 3


def test_without_spacing_a_finished_issue_is_converged_again_at_once():
    async def scenario():
        converge, queue = await started(1)
        await queue.submit(Hint(7, "Note Hook"))
        await queue.submit(Hint(7, "Issue Hook"))
        await queue.stop(1)
        return queue

    assert run(scenario()).stats["spaced"] == 0


def test_stop_drops_a_hint_waiting_out_the_spacing():
    async def scenario():
        timers = FakeTimers()
        converge, queue = await started(1, spacing=30, timers=timers)
        await queue.submit(Hint(7, "Note Hook"))
        later = queue.submit(Hint(7, "Issue Hook"))
        assert queue.stats["spaced"] == 1 and not queue.idle
        left = await queue.stop(1)
        assert timers.pending == 1   # only the forgetting of the first start: the spaced one is cancelled
        return left, await later, converge

    left, ok, converge = run(scenario())
    assert left == [7] and ok is False and len(converge.calls) == 1
