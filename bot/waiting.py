"""Wait for a condition instead of sleeping: for things that happen "soon" (a webhook, a queue)."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float, interval: float, on_timeout: Callable[[T], Exception]
) -> T:
    """Call `predicate` until it returns something truthy and return that value; after `timeout`
    seconds raise `on_timeout(last value)`, so each caller says what it was waiting for."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise on_timeout(value)
        time.sleep(interval)
