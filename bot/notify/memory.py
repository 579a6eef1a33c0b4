"""What this process knows about deliveries that a snapshot read earlier may not show yet.

GitLab is the record; this is only a bridge over the moments between a snapshot and the writes
after it: deliveries recorded (or being sent) since, and the intents this process wrote — True
until a round resolved them (sent, or recorded unsent). Lost on restart, which is fine: by then
GitLab shows all of it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterable

from bot.markers import Marker
from bot.notify.owed import SENDING, DeliveryKey, IntentKey, Owed, delivery_key

SIZE = 10_000


class DeliveryMemory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorded: OrderedDict[tuple[int, DeliveryKey], None] = OrderedDict()
        self._in_flight: set[tuple[int, DeliveryKey]] = set()
        self._intents: OrderedDict[tuple[int, IntentKey], bool] = OrderedDict()

    def known(self, iid: int) -> tuple[set[DeliveryKey], dict[IntentKey, bool]]:
        """Deliveries recorded or under way on issue `iid`, and its intents (True: unresolved)."""
        with self._lock:
            done = {key for i, key in (*self._recorded, *self._in_flight) if i == iid}
            intents = {intent: unresolved for (i, intent), unresolved in self._intents.items() if i == iid}
        return done, intents

    def flying(self, keys: set[tuple[int, DeliveryKey]]) -> None:
        with self._lock:
            self._in_flight |= keys

    def landed(self, keys: set[tuple[int, DeliveryKey]]) -> None:
        with self._lock:
            self._in_flight -= keys

    def recorded(self, iid: int, key: DeliveryKey) -> None:
        with self._lock:
            self._recorded[(iid, key)] = None
            _trim(self._recorded)

    def intended(self, iid: int, items: Iterable[Owed], round_id: str) -> None:
        with self._lock:
            for item in items:
                self._intents[(iid, (item.event.key(item.channel), round_id))] = True
            _trim(self._intents)

    def withdraw(self, iid: int, markers: Iterable[Marker]) -> None:
        """The `sending` markers of a note the converge deleted: resolved, no longer this process's."""
        with self._lock:
            for marker in markers:
                intent = (iid, (delivery_key(marker), marker.data.get("round")))
                if marker.kind == SENDING and intent in self._intents:
                    self._intents[intent] = False   # type: ignore[index]

    def resolve(self, iid: int, keys: set[DeliveryKey]) -> dict[DeliveryKey, list[str]]:
        """Mark this process's intents for `keys` resolved; the rounds they were written for."""
        rounds: dict[DeliveryKey, list[str]] = {}
        with self._lock:
            mine = [entry for entry, open_ in self._intents.items() if open_ and entry[0] == iid and entry[1][0] in keys]
            for entry in mine:
                self._intents[entry] = False
                rounds.setdefault(entry[1][0], []).append(str(entry[1][1]))
        return rounds


def _trim(memory: OrderedDict[Any, Any]) -> None:
    while len(memory) > SIZE:
        memory.popitem(last=False)
