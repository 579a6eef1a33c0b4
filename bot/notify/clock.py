"""Time, as the dispatcher sees it: an injectable clock and the quiet-hours window.

The dispatcher never calls `datetime.now()` itself, so tests can walk a fake clock through a night
in any time zone without waiting for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from bot.config.settings import QuietHours

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class QuietWindow:
    """A daily window of local wall-clock time in which messages are held back.

    `start` after `end` (22:00–07:00) means the window runs across midnight. Equal bounds mean
    no quiet time at all, not a whole day of it.
    """

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, quiet: QuietHours | None) -> "QuietWindow | None":
        if quiet is None:
            return None
        return cls(time.fromisoformat(quiet.start), time.fromisoformat(quiet.end), ZoneInfo(quiet.timezone))

    def is_quiet(self, now: datetime) -> bool:
        local = now.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end
