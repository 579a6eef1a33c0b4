"""Pacing: the bot's note creations stay under GitLab's per-minute limit (60 on GitLab.com).

A delivery record is usually an edit of a history note, which the limit does not count; a note
is created only for a message with no history note of its own (a staging summary). Those are
paced here: when the last minute already holds `per_minute` creations, the caller waits.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable


class NotePacer:
    def __init__(self, per_minute: Callable[[], int], sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute   # read at each turn: a settings reload changes it
        self.sleep = sleep
        self.monotonic = monotonic
        self._recent: deque[float] = deque()

    def wait_turn(self) -> None:
        now = self.monotonic()
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        if len(self._recent) >= self.per_minute():
            self.sleep(60 - (now - self._recent[0]))
        self._recent.append(self.monotonic())
