"""Channel health: a channel that keeps failing rests (1, 2, 4... minutes), is reported to the
admin channel once, and once more when it works again; the other channels carry on meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from bot.config.notify_sections import RetrySettings

log = logging.getLogger(__name__)

Report = Callable[[str, bool], None]   # (text, trouble)


@dataclass
class ChannelHealth:
    failed_rounds: int = 0
    resting_until: datetime | None = None
    reported: bool = False
    last_error: str = ""


class HealthBook:
    """How each delivery target fared in its recent rounds."""

    def __init__(self, report: Report):
        self.report = report
        self._health: dict[str, ChannelHealth] = {}

    def of(self, name: str) -> ChannelHealth:
        return self._health.setdefault(name, ChannelHealth())

    def resting(self, name: str, now: datetime) -> bool:
        until = self.of(name).resting_until
        return until is not None and until > now

    def after_round(self, name: str, failures: Sequence[str], now: datetime, retry: RetrySettings) -> None:
        """Count a round of `name` whose failed sends said `failures` (none: it worked)."""
        health = self.of(name)
        if not failures:
            if health.reported:
                self.report(f"{name} works again after {health.failed_rounds} failed round(s).", False)
            self._health[name] = ChannelHealth()
            return
        health.failed_rounds += 1
        health.last_error = failures[0]
        rest = min(2 ** (health.failed_rounds - 1), retry.rest_max_minutes)
        health.resting_until = now + timedelta(minutes=rest)
        log.warning("%s failed %d round(s) in a row; resting %g min", name, health.failed_rounds, rest)
        if health.failed_rounds >= retry.report_after_rounds and not health.reported:
            health.reported = True
            self.report(f"{name} keeps failing ({health.failed_rounds} rounds): {health.last_error}", True)

    def failure_detail(self, name: str, detail: str) -> str:
        """What a failed send says in the record: why, and when the channel is tried again."""
        health = self.of(name)
        until = health.resting_until.strftime("%H:%M UTC") if health.resting_until else "the next round"
        return f"{detail}; failed {health.failed_rounds} round(s) in a row, next try after {until}"
