"""A clock that moves only when the test says so, for `bot.queue.ConvergeQueue(timers=...)`.

`advance(seconds)` runs every timer that falls due on the way, in order of due time, each at its
own due time (a timer set by a callback that falls due within the same step runs too)."""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable


class FakeTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTimers:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._due: list[tuple[float, int, FakeTimer, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[..., None], *args: Any) -> FakeTimer:
        timer = FakeTimer()
        heapq.heappush(self._due, (self._now + delay, next(self._order), timer, callback, args))
        return timer

    @property
    def pending(self) -> int:
        """Timers set and neither fired nor cancelled."""
        return sum(not timer.cancelled for _, _, timer, _, _ in self._due)

    def advance(self, seconds: float) -> None:
        until = self._now + seconds
        while self._due and self._due[0][0] <= until:
            due, _, timer, callback, args = heapq.heappop(self._due)
            self._now = due
            if not timer.cancelled:
                callback(*args)
        self._now = until
