"""One writer per issue at a time, in this process: the lock every write to an issue takes.

The queue runs one converge per issue at a time, but the REST API converges in a thread of its
own and the notifier writes its delivery records from its rounds: two writers reading the same
snapshot would both write what is owed for one source. So every writer of an issue (converge,
the notifier's intents, records and owed label) takes turns on this lock, whoever asks. It is
re-entrant: a converge hands its issue to the notifier while still holding it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _IssueLock:
    """A lock for one issue; weakly held in `_LOCKS`, so it lives only while in use."""

    __slots__ = ("lock", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.RLock()


_LOCKS: weakref.WeakValueDictionary[tuple[str, str, int], _IssueLock] = weakref.WeakValueDictionary()
_GUARD = threading.Lock()


def issue_lock(gitlab: Any, project: object, iid: int) -> _IssueLock:
    """The lock of issue `iid` of `project` (settings.project) on `gitlab`; keep the returned
    object while holding its `.lock`."""
    key = (str(getattr(gitlab, "url", "")), str(project), iid)
    with _GUARD:
        holder = _LOCKS.get(key)
        if holder is None:
            holder = _LOCKS[key] = _IssueLock()
        return holder


@contextmanager
def holding(gitlab: Any, project: object, iid: int) -> Iterator[None]:
    """Hold issue `iid`'s lock for the `with` block (the lock lives as long as someone holds it)."""
    held = issue_lock(gitlab, project, iid)
    with held.lock:
        yield
