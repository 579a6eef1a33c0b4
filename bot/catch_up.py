"""Catching up on what no webhook told the bot about.

GitLab drops events while a hook is disabled and never retries a failed delivery, and a bot that
was down heard nothing. So on start-up, every `catch_up.interval_minutes`, and on `vorhoelle
catch-up`, the bot converges every job-match issue updated since the last pass — asking GitLab for
exactly those (`updated_after`, oldest first), so a pass costs as much as what changed, not as
much as the project holds.

Where "the last pass" is kept: in GitLab, as the watermark in the bot's status issue
(bot/status_issue.py): the time the last complete pass started, minus the overlap. Every process
and every scheduled pipeline starts from it; `--since` overrides it; only the very first run looks
back `first_window_days`. A pass that leaves an issue unconverged records only how far it got
before that issue, so the next pass tries again.

A pass walks the changed issues a page (100) at a time, by moving `updated_after` to the last
issue of the page rather than by page number: converging an issue changes its `updated_at`, which
would shift the pages under a page-number walk and skip issues. A watermark older than one pass
covers in one go (`first_window_days`) is said out loud, and the watermark is then recorded after
every page, so a long absence is covered in steps that survive a restart. When the record cannot
be read at all, the pass falls back to the first window, a full reconcile (bot/reconcile.py) is
started at once, and the admin channel hears why.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bot import metrics
from bot.alarm import Alarm
from bot.gitlab_access import GitLabError, gitlab_time, read_time
from bot.queue import Hint
from bot.runtime import Runtime
from bot.status import health
from bot.reconcile import Reconciler, failed
from bot.status_issue import LABEL as STATUS_LABEL
from bot.status_issue import Health, StatusIssue

log = logging.getLogger(__name__)

# Clocks of the bot and GitLab differ a little; converging an issue twice is harmless.
OVERLAP = timedelta(minutes=1)
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

ConvergePage = Callable[[Sequence[int]], Sequence[object]]  # iids -> an outcome each (an Exception or False: failed)


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


@dataclass
class PassReport:
    since: datetime
    until: datetime | None = None
    converged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    reached: datetime | None = None   # every job-match issue updated before this is converged
    paged: bool = False

    def summary(self) -> str:
        failed = f", {len(self.failed)} failed: {self.failed}" if self.failed else ""
        return f"{len(self.converged)} issues converged since {self.since.isoformat(timespec='seconds')}{failed}"


def walk_changed(runtime: Runtime, report: PassReport, converge_page: ConvergePage,
                 on_page: Callable[[PassReport], None] = lambda report: None) -> PassReport:
    """Converge every job-match issue updated between `report.since` and `report.until`, oldest
    change first, a page at a time; `on_page` hears after each page."""
    settings = runtime.settings
    pages = runtime.gitlab.walk_issues(
        "updated_at", (gitlab_time(report.since), 0), labels=[settings.workflow.marker_label],
        not_labels=[STATUS_LABEL], updated_before=gitlab_time(report.until or now()),
    )
    for page in pages:
        iids = [int(issue["iid"]) for issue in page]
        for iid, outcome in zip(iids, converge_page(iids)):
            (report.failed if failed(outcome) else report.converged).append(iid)
        if not report.failed:
            report.reached = read_time(page[-1]["updated_at"])  # every change up to here is converged
        on_page(report)
    return report


def one_by_one(converge: Callable[[int], object],
               progress: Callable[[int, object], None] = lambda iid, outcome: None) -> ConvergePage:
    """A `ConvergePage` converging in turn, for a process without a queue (`vorhoelle catch-up`):
    one bad issue never stops the pass."""
    def page(iids: Sequence[int]) -> list[object]:
        outcomes: list[object] = []
        for iid in iids:
            try:
                outcome = converge(iid)
            except Exception as error:
                log.warning("catch-up: issue #%s failed: %s", iid, error, extra={"issue": iid, "outcome": "failed"})
                outcome = error
            progress(iid, outcome)
            outcomes.append(outcome)
        return outcomes
    return page


class CatchUp:
    """Where passes start and what they record: the watermark in the status issue."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = lambda: now(),
                 say: Callable[[str], None] = lambda line: None) -> None:
        # `clock` looks `now` up at each call, so a test can move this module's clock
        self.runtime = runtime
        self.clock = clock
        self.say = say   # the command line prints what the log says
        self.status = StatusIssue(runtime.gitlab)
        self.loaded = False

    @property
    def one_go(self) -> timedelta:
        return timedelta(days=self.runtime.settings.catch_up.first_window_days)

    def load(self) -> None:
        """Read the record (once per process). A record that cannot be read starts a full
        reconcile now and tells the admin channel why; the first run just looks back the window."""
        loaded = self.status.load()
        self.loaded = True
        if loaded.problem:
            text = (f"The catch-up's watermark cannot be read: {loaded.problem}. A full reconcile of every "
                    "job-match issue starts now, so that nothing changed meanwhile is skipped.")
            self._tell(text)
            self.status.update(full_next=self.clock())
        elif loaded.first_run:
            log.info("catch-up: first run on this project (no status issue yet): looking back %s days",
                     self.runtime.settings.catch_up.first_window_days)
            self.status.update(full_next=self.clock() + self.full_every)

    @property
    def full_every(self) -> timedelta:
        return timedelta(hours=self.runtime.settings.catch_up.full_every_hours)

    def _tell(self, text: str) -> None:
        log.error("catch-up: %s", text, extra={"event": "catch-up", "outcome": "failed"})
        self.say(text)
        notifier = self.runtime.notifier
        if notifier is not None and hasattr(notifier, "report_health"):
            notifier.report_health(text)

    def start_of(self, since: datetime | None) -> tuple[datetime, list[str]]:
        """Where the next pass starts (`since` overrides the watermark), and what to say about it."""
        at = self.clock()
        start = since or self.status.record.watermark or at - self.one_go
        if since is not None or at - start <= self.one_go:
            return start, []
        days = (at - start) / timedelta(days=1)
        return start, [f"the watermark {start.isoformat(timespec='seconds')} is {days:.1f} days old, more than the "
                       f"{self.runtime.settings.catch_up.first_window_days:g} days one pass covers in one go: "
                       "covering it page by page, recording the watermark after each page"]

    def run_pass(self, converge_page: ConvergePage, since: datetime | None = None) -> PassReport:
        """One pass: from the watermark (or `since`) to now, then the watermark moves up."""
        if not self.loaded:
            self.load()
        start, notes = self.start_of(since)
        for line in notes:
            log.warning("catch-up: %s", line, extra={"event": "catch-up"})
            self.say(line)
        until = self.clock()
        report = PassReport(start, until=until, paged=bool(notes))

        def on_page(report: PassReport) -> None:
            if report.paged and report.reached and since is None:
                self.status.save(watermark=report.reached)

        walk_changed(self.runtime, report, converge_page, on_page)
        changes: dict[str, Any] = {"last_pass": self.clock(), "last_summary": report.summary()}
        old = self.status.record.watermark
        if since is None or old is None or since <= old:  # a later `--since` leaves a gap unchecked
            changes["watermark"] = until - OVERLAP if not report.failed else (report.reached or start)
        self.status.save(self.health(notes), **changes)
        if report.since is not None:
            metrics.CATCH_UP_LAG.set((self.clock() - report.since).total_seconds())
        return report

    def health(self, notes: list[str]) -> Health:
        try:
            return health(self.runtime.settings, self.runtime.gitlab, notes)
        except GitLabError as error:  # the record matters more than the health table
            log.warning("catch-up: cannot gather the bot's health for the status note: %s", error)
            return Health(notes=notes)

    def reconcile_due(self) -> bool:
        record = self.status.record
        return record.full_run is not None or (record.full_next is not None and record.full_next <= self.clock())


class CatchUpLoop:
    """The server's catch-up: a pass at start-up and every interval, through the converge queue
    (so a catch-up converge never overlaps a webhook's converge of the same issue), and the full
    reconcile whenever it is due, beside the passes."""

    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = lambda: now()):
        self.runtime = runtime
        self.catch_up = CatchUp(runtime, clock=clock)
        self.passes = 0
        self.last_success: datetime | None = None
        self.last_error: str | None = None
        self.reconciling: asyncio.Task[Any] | None = None
        self._alarm = Alarm()
        self.reconciler = Reconciler(runtime, self.catch_up)

    @property
    def since(self) -> datetime | None:
        return self.catch_up.status.record.watermark

    def wake(self) -> None:
        """Start the next pass now instead of at the end of the interval (from any thread)."""
        self._alarm.wake()

    async def run(self) -> None:
        self._alarm.listen()
        interval = self.runtime.settings.catch_up.interval_minutes * 60
        try:
            while True:
                try:
                    await self.run_pass()
                    self._start_reconcile()
                except Exception:  # a bug met in one pass must not end catch-up for the process's life
                    log.exception("catch-up pass failed; the next one comes at the interval", extra={"outcome": "failed"})
                await self._alarm.sleep(interval)
        finally:
            self.reconciler.stop()  # it records how far it got and ends at its next step

    def _start_reconcile(self) -> None:
        if (self.reconciling is None or self.reconciling.done()) and self.catch_up.reconcile_due():
            self.reconciling = asyncio.create_task(self._reconcile(), name="reconcile")

    async def _reconcile(self) -> None:
        """The full reconcile in a worker thread. GitLab failing it (a revoked token, an outage) is
        logged and shown on /health/ready until the next pass, after which it resumes where it
        stopped."""
        converge = self._through_queue("reconcile")
        try:
            await asyncio.to_thread(self.reconciler.run, lambda iid: converge([iid])[0])
        except GitLabError as error:
            self.last_error = f"the full reconcile failed: {error}"
            log.warning("full reconcile: %s; it resumes after the next pass", error,
                        extra={"event": "reconcile", "outcome": "failed"})
        except Exception:  # a bug in it must not end the process's catch-up, nor go unsaid
            log.exception("full reconcile failed; it resumes after the next pass",
                          extra={"event": "reconcile", "outcome": "failed"})

    def _through_queue(self, reason: str) -> ConvergePage:
        """Converge from a worker thread through the queue (in parallel, in the queue's order)."""
        loop, runtime = asyncio.get_running_loop(), self.runtime

        def page(iids: Sequence[int]) -> Sequence[object]:
            async def all_of() -> list[bool]:
                return list(await asyncio.gather(*(runtime.hints.submit(Hint(iid, reason)) for iid in iids)))
            future = asyncio.run_coroutine_threadsafe(all_of(), loop)
            while True:  # never outlive the server's loop: a stopped loop answers nothing
                try:
                    return future.result(timeout=1)
                except concurrent.futures.TimeoutError:
                    if not loop.is_running():
                        future.cancel()
                        return [False] * len(iids)
                except concurrent.futures.CancelledError:
                    return [False] * len(iids)

        return page

    async def run_pass(self) -> PassReport | None:
        converge_page = self._through_queue("catch-up")
        try:
            report = await asyncio.to_thread(self.catch_up.run_pass, converge_page)
        except GitLabError as error:  # reading the record, listing, or recording the new watermark
            self.last_error = f"the pass failed: {error}"
            log.warning("catch-up: %s; the watermark stays", self.last_error, extra={"outcome": "failed"})
            await self._tell_watch()
            return None
        self.passes += 1
        if report.failed:
            self.last_error = f"issues {report.failed} not converged"
        else:
            self.last_success, self.last_error = now(), None
            metrics.CATCH_UP_LAST_SUCCESS.set(self.last_success.timestamp())
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
        record = self.catch_up.status.record
        return {
            "passes": self.passes,
            "window_start": self.since.isoformat(timespec="seconds") if self.since else None,
            "last_success": self.last_success.isoformat(timespec="seconds") if self.last_success else None,
            "last_error": self.last_error,
            "status_issue": self.catch_up.status.iid,
            "full_reconcile": self.reconciler.status(record),
        }
