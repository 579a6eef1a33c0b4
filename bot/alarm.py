"""The wait between two passes of a timer loop: the interval, or less when someone wakes it.

The catch-up and the mailbox both run a pass at start-up and then every interval, and a webhook,
a test or a command may want the next pass now, from any thread.
"""

from __future__ import annotations

import asyncio


class Alarm:
    """Sleep until the interval ends or `wake()` is called, whichever comes first."""

    def __init__(self) -> None:
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen(self) -> None:
        """Take wakes from now on (called in the event loop, as the timer loop starts): a wake
        during a pass ends the wait after it at once. Before this, the first pass is still to
        come, so a wake has nothing to hurry."""
        self._loop = asyncio.get_running_loop()

    def wake(self) -> None:
        """End the current or the next wait now; safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken.set)

    async def sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._woken.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._woken.clear()
