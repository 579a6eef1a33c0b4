"""Wait for a condition instead of sleeping: things that happen "soon" (webhooks, queues)."""

from __future__ import annotations

from typing import Callable, TypeVar

from bot import waiting

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 15, interval: float = 0.05, message: str = ""
) -> T:
    """Call `predicate` until it returns something truthy and return that value.

    Raises AssertionError after `timeout` seconds, naming `message` (or the predicate) and the
    last value seen, so a failing test says what it was waiting for.
    """
    what = message or getattr(predicate, "__name__", repr(predicate))
    return waiting.wait_until(
        predicate, timeout, interval,
        lambda last: AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}"),
    )
