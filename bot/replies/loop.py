"""The served bot's mailbox timer: a pass at start-up and every `replies.interval_minutes`.

One `Mailbox` lives as long as the process, so IMAP asks only for UIDs it has not read yet; a
pass that fails (the mailbox unreachable, a wrong password) is logged in one line and the next
comes at the interval.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from bot.alarm import Alarm
from bot.replies.run import PassReport, run_pass
from bot.replies.source import Mailbox, MailboxError, open_mailbox

log = logging.getLogger(__name__)


class RepliesLoop:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.mailbox: Mailbox | None = None  # opened by the first pass: a bad setting is its error, not the bot's
        self.passes = 0
        self.last_error: str | None = None
        self.last_success: datetime | None = None
        self._alarm = Alarm()

    def status(self) -> dict[str, object]:
        """For /health/ready: how many passes read the mailbox, and why the last one failed."""
        return {"transport": self.runtime.settings.replies.transport, "passes": self.passes,
                "last_success": self.last_success.isoformat(timespec="seconds") if self.last_success else None,
                "last_error": self.last_error}

    def wake(self) -> None:
        """Read the mailbox now instead of at the end of the interval (from any thread)."""
        self._alarm.wake()

    async def run(self) -> None:
        self._alarm.listen()
        interval = self.runtime.settings.replies.interval_minutes * 60
        while True:
            await self.run_pass()
            await self._alarm.sleep(interval)

    async def run_pass(self) -> PassReport | None:
        try:
            self.mailbox = self.mailbox or open_mailbox(self.runtime.settings)
            report = await asyncio.to_thread(run_pass, self.runtime, self.mailbox)
        except MailboxError as error:
            self.last_error = str(error)
            log.warning("replies: %s; the next pass comes at the interval", error, extra={"outcome": "failed"})
            return None
        except Exception:  # a bug met in one pass must not end the timer for the process's life
            self.last_error = "the pass failed (see the log)"
            log.exception("replies pass failed; the next one comes at the interval", extra={"outcome": "failed"})
            return None
        self.passes += 1
        self.last_error, self.last_success = None, datetime.now(timezone.utc)
        counts = {status: len(report.of(status)) for status in ("recorded", "already", "unmatched")}
        log.info("replies pass %d: %s", self.passes, ", ".join(f"{n} {s}" for s, n in counts.items()))
        return report
