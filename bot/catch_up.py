"""Catching up on what no webhook told the bot about.

GitLab drops events while a hook is disabled and never retries a failed delivery, and a bot that
was down heard nothing. So on start-up, every `catch_up.interval_minutes`, and on `vorhoelle
catch-up`, the bot converges every job-match issue updated since the last pass — asking GitLab for
exactly those (`updated_after`, oldest first, page by page), so a pass costs as much as what
changed, not as much as the project holds.

Where "the last pass" is kept: in memory, in the running process (GitLab is the only state). A
fresh process looks back `first_window_days`. A pass that leaves an issue unconverged keeps its
window, so the next pass tries again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from bot import metrics
from bot.queue import Hint
from bot.runtime import Runtime

log = logging.getLogger(__name__)

# Clocks of the bot and GitLab differ a little; converging an issue twice is harmless.
OVERLAP = timedelta(minutes=1)
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_since(text: str, *, at: datetime | None = None) -> datetime:
    """`7d`, `3h`, `30m`, `2w` back from now, or an ISO 8601 time (`2025-01-10T10:00:00Z`,
    `2025-01-10 10:00:00 UTC`; without a zone: UTC)."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = relative.groups()
        return (at or now()) - timedelta(**{_UNITS[unit]: float(amount)})
    cleaned = text.strip().removesuffix(" UTC").replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"cannot read {text!r} as a time: give 7d, 3h, 30m or an ISO 8601 time like 2025-01-10T10:00:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def changed_issues(runtime: Runtime, since: datetime) -> Iterator[int]:
    """The iids of job-match issues updated after `since`, oldest change first, fetched lazily."""
    updated_after = since.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    for issue in runtime.gitlab.iter_issues(
        labels=[runtime.settings.workflow.marker_label], updated_after=updated_after,
        order_by="updated_at", sort="asc",
    ):
        yield issue["iid"]


@dataclass
class PassReport:
    since: datetime
    converged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        failed = f", {len(self.failed)} failed: {self.failed}" if self.failed else ""
        return f"{len(self.converged)} issues converged since {self.since.isoformat(timespec='seconds')}{failed}"


def catch_up_once(runtime: Runtime, since: datetime, converge: Callable[[int], object],
                  progress: Callable[[int, object], None] = lambda iid, outcome: None) -> PassReport:
    """One pass without a server (`vorhoelle catch-up`): converge each changed issue in turn."""
    report = PassReport(since)
    for iid in changed_issues(runtime, since):
        try:
            outcome = converge(iid)
        except Exception as error:  # one bad issue must not stop the pass
            log.warning("catch-up: issue #%s failed: %s", iid, error, extra={"issue": iid, "outcome": "failed"})
            report.failed.append(iid)
            outcome = error
        else:
            report.converged.append(iid)
        progress(iid, outcome)
    return report


class CatchUpLoop:
    """The server's catch-up: a pass at start-up and every interval, through the converge queue
    (so a catch-up converge never overlaps a webhook's converge of the same issue)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.since = now() - timedelta(days=runtime.settings.catch_up.first_window_days)
        self.passes = 0
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Start the next pass now instead of at the end of the interval (from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        interval = self.runtime.settings.catch_up.interval_minutes * 60
        while True:
            try:
                await self.run_pass()
            except Exception:  # a bug met in one pass must not end catch-up for the process's life
                log.exception("catch-up pass failed; the next one comes at the interval", extra={"outcome": "failed"})
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass
            self._wake.clear()

    async def run_pass(self) -> PassReport:
        started = now()
        report = PassReport(self.since)
        try:
            iids = await asyncio.to_thread(lambda: list(changed_issues(self.runtime, self.since)))
        except Exception as error:
            self.last_error = f"listing changed issues failed: {error}"
            log.warning("catch-up: %s; the window stays open", self.last_error, extra={"outcome": "failed"})
            await self._tell_watch()
            return report
        outcomes = await asyncio.gather(*(self.runtime.hints.submit(Hint(iid, "catch-up")) for iid in iids))
        for iid, ok in zip(iids, outcomes):
            (report.converged if ok else report.failed).append(iid)
        self.passes += 1
        if report.failed:
            self.last_error = f"issues {report.failed} not converged"
        else:
            self.since, self.last_success, self.last_error = started - OVERLAP, now(), None
            metrics.CATCH_UP_LAST_SUCCESS.set(self.last_success.timestamp())
        metrics.CATCH_UP_LAG.set((now() - report.since).total_seconds())
        log.info("catch-up pass: %s", report.summary(), extra={"event": "catch-up", "outcome":
                 "failed" if report.failed else "ok"})
        await self._tell_watch()
        return report

    async def _tell_watch(self) -> None:
        """The notifier's health watch hears how the pass went and checks the webhook on the same
        schedule (bot/notify/watch.py): the admin channel hears of trouble once, and of its end."""
        watch = getattr(self.runtime.notifier, "watch", None)
        if watch is not None:
            await asyncio.to_thread(watch.after_catch_up, self.runtime.gitlab,
                                    self.runtime.settings.public_url, self.last_error)

    def status(self) -> dict[str, object]:
        return {
            "passes": self.passes,
            "window_start": self.since.isoformat(timespec="seconds"),
            "last_success": self.last_success.isoformat(timespec="seconds") if self.last_success else None,
            "last_error": self.last_error,
        }
