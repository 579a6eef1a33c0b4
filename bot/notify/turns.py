"""Rounds take turns: one delivery round at a time, and an issue arriving meanwhile waits here.

A converge hands its issue over and goes on at once; the thread running a round takes what
arrived during it next, batched, so the issue needs no `vorhoelle/notify-owed` label for the
moment it waits (were the process to die, the markers still say what is owed, and the start-up
catch-up converges the issue again). A staging cycle's issues stay one round, for its summary.
"""

from __future__ import annotations

import threading
from typing import Callable, Iterable, Sequence

from bot.snapshot import IssueSnapshot

Round = Callable[[Sequence[IssueSnapshot], bool], None]   # (snapshots, a staging cycle's?)


class Turns:
    def __init__(self, run_round: Round):
        self._run_round = run_round
        self._lock = threading.Lock()        # one round at a time
        self._queue_lock = threading.Lock()  # guards `_queued`
        self._queued: dict[int, tuple[IssueSnapshot, bool]] = {}

    def run(self, snapshots: Sequence[IssueSnapshot], *, cycle: bool, wait: float) -> None:
        """Queue the issues, then run rounds until the queue is empty — unless another thread is
        running them (for up to `wait` seconds), in which case it takes these next."""
        self._enqueue(snapshots, cycle)
        acquired = self._lock.acquire(timeout=wait) if wait else self._lock.acquire(blocking=False)
        while acquired:
            try:
                rounds = self._take() or [([], cycle)]   # nothing owed: GitLab answered all the same
                while rounds:
                    for batch, batch_cycle in rounds:
                        self._run_round(batch, batch_cycle)
                    rounds = self._take()
            finally:
                self._lock.release()
            # Queued between the last take and the release: nobody else may have seen it.
            acquired = bool(self._queued) and self._lock.acquire(blocking=False)

    def _enqueue(self, snapshots: Iterable[IssueSnapshot], cycle: bool) -> None:
        """One entry per issue: the snapshot that knows more wins; a staging cycle's stays one."""
        with self._queue_lock:
            for snapshot in snapshots:
                earlier, earlier_cycle = self._queued.get(snapshot.iid, (None, False))
                if earlier is not None and _knows_more(earlier, snapshot):
                    snapshot = earlier
                self._queued[snapshot.iid] = (snapshot, cycle or earlier_cycle)

    def _take(self) -> list[tuple[list[IssueSnapshot], bool]]:
        """Everything queued, as a staging cycle's round and a round of the rest."""
        with self._queue_lock:
            queued, self._queued = list(self._queued.values()), {}
        rounds = [([s for s, c in queued if c == cycle], cycle) for cycle in (True, False)]
        return [(batch, cycle) for batch, cycle in rounds if batch]


def _knows_more(one: IssueSnapshot, other: IssueSnapshot) -> bool:
    """Whether snapshot `one` of an issue was read after `other` (GitLab only adds notes)."""
    return (one.updated_at, len(one.notes)) > (other.updated_at, len(other.notes))
