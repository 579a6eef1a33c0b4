"""The full reconcile: now and then, converge every job match, not only the changed ones.

The catch-up trusts `updated_at`; the full reconcile trusts nothing (Prow's periodic resync):
every `catch_up.full_every_hours` it converges every open job-match issue, and every closed one
updated since the last full reconcile started (closed before that, the last one saw it). It is
also what the bot falls back to when its watermark cannot be read.

It walks the issues in creation order (`created_after` moved to the last issue done, which no
converge changes), and records where it is — the last issue's `created_at` and id, the count —
in the status issue's marker every `PROGRESS_EVERY` issues and whenever it stops early, so a
restart continues where it stopped and converges no issue of that pass twice. It is paced: before
each issue it waits until the GitLab calls made so far (its own and any others of this process)
fit in `catch_up.max_calls_per_minute`; the clock and the sleep are injected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import metrics
from bot.gitlab_access import read_time
from bot.runtime import Runtime
from bot.status_issue import LABEL as STATUS_LABEL
from bot.status_issue import MAX_FAILED, FullRun, Record

log = logging.getLogger(__name__)

PROGRESS_EVERY = 25


class Pacer:
    """Keeps calls at or under `per_minute`: a step that made n calls makes the next step start
    no sooner than n × 60/`per_minute` seconds after it started (no credit piles up while idle)."""

    def __init__(self, per_minute: int, calls: Callable[[], int], *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], object] = time.sleep) -> None:
        self.spacing = 60 / per_minute
        self.calls, self.clock, self.sleep = calls, clock, sleep
        self._started, self._counted = clock(), calls()

    def wait(self) -> None:
        """Before a step: wait until the calls of the step before are paid for."""
        due = self._started + (self.calls() - self._counted) * self.spacing
        if (at := self.clock()) < due:
            self.sleep(due - at)
        self._started, self._counted = self.clock(), self.calls()


def failed(outcome: object) -> bool:
    """A converge's outcome that did not converge: an exception, or False from the queue."""
    return outcome is False or isinstance(outcome, BaseException)


@dataclass
class ReconcileReport:
    started: datetime
    converged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: int = 0            # closed and not updated since the last full reconcile
    resumed_after: int = 0      # converged by the run this one continues
    finished: bool = False

    def summary(self) -> str:
        done = "finished" if self.finished else "stopped early (continues from here next time)"
        resumed = f" (continuing after {self.resumed_after} converged before)" if self.resumed_after else ""
        failed = f", {len(self.failed)} failed: {self.failed}" if self.failed else ""
        return (f"full reconcile {done}{resumed}: {len(self.converged)} issues converged{failed}, "
                f"{self.skipped} closed ones untouched since the last full reconcile skipped")


class Reconciler:
    """Runs full reconciles for one process: `run` does one (or continues the one under way)."""

    def __init__(self, runtime: Runtime, catch_up: Any, *, sleep: Callable[[float], object] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        self.catch_up = catch_up          # bot.catch_up.CatchUp: the clock and the status issue
        self._stop = threading.Event()
        self.sleep = sleep or self._stop.wait
        self.monotonic = monotonic
        self.running: ReconcileReport | None = None

    def stop(self) -> None:
        """End the reconcile under way at its next step (it records its progress first)."""
        self._stop.set()

    def status(self, record: Record) -> dict[str, object]:
        run = record.full_run
        return {
            "running": self.running is not None,
            "started": run.started.isoformat(timespec="seconds") if run else None,
            "converged": run.converged if run else 0,
            "last_started": record.full_last.isoformat(timespec="seconds") if record.full_last else None,
            "next_due": record.full_next.isoformat(timespec="seconds") if record.full_next else None,
        }

    def run(self, converge: Callable[[int], object], *, dry_run: bool = False,
            progress: Callable[[int, object], None] = lambda iid, outcome: None) -> ReconcileReport:
        """One full reconcile, or the rest of the one under way. `dry_run` lists what it would
        converge and writes nothing (not even its progress)."""
        status, settings = self.catch_up.status, self.runtime.settings
        pacer = Pacer(settings.catch_up.max_calls_per_minute, lambda: self.runtime.gitlab.calls,
                      clock=self.monotonic, sleep=self.sleep)
        if not self.catch_up.loaded:  # a dry run reads the record but starts nothing
            self.catch_up.status.load() if dry_run else self.catch_up.load()
        record = status.record
        run = record.full_run or FullRun(started=self.catch_up.clock())
        closed_since = record.full_last
        report = ReconcileReport(run.started, resumed_after=run.converged)
        self.running = report
        if not dry_run:
            status.save(full_run=run)
        log.info("full reconcile %s: every open job-match issue, and closed ones updated since %s",
                 "continues" if run.cursor else "starts", closed_since.isoformat(timespec="seconds") if closed_since
                 else "ever", extra={"event": "reconcile"})
        pages = self.runtime.gitlab.walk_issues(
            "created_at", run.cursor, labels=[settings.workflow.marker_label],
            not_labels=[STATUS_LABEL], state="all")
        try:
            while not self._stop.is_set():
                pacer.wait()
                page = next(pages, None)
                if page is None:
                    report.finished = True
                    break
                for issue in page:
                    if self._stop.is_set():
                        break
                    if issue.get("state") != "opened" and closed_since and read_time(issue["updated_at"]) < closed_since:
                        report.skipped += 1
                        continue
                    pacer.wait()
                    iid = int(issue["iid"])
                    outcome = True if dry_run else converge(iid)
                    if failed(outcome) and self._stop.is_set():
                        break  # cut short by the stop: this issue is the first of the next run
                    progress(iid, outcome)
                    done = run.failed + (iid,) if failed(outcome) else run.failed
                    run = FullRun(run.started, (issue["created_at"], int(issue["id"])), run.converged + 1,
                                  done[:MAX_FAILED])
                    if not failed(outcome):
                        report.converged.append(iid)
                        metrics.RECONCILE_ISSUES.labels(outcome="converged").inc()
                    if not dry_run and (run.converged - report.resumed_after) % PROGRESS_EVERY == 0:
                        status.save(full_run=run)
            if report.finished:
                self._once_more(report, run.failed, converge, pacer, progress)
        finally:
            self.running = None
            if not dry_run:
                self._record(report, run)
        log.info("%s", report.summary(), extra={"event": "reconcile", "outcome": "failed" if report.failed else "ok"})
        return report

    def _once_more(self, report: ReconcileReport, iids: tuple[int, ...], converge: Callable[[int], object],
                   pacer: Pacer, progress: Callable[[int, object], None]) -> None:
        """The issues that failed in this run, tried again at its end (a GitLab hiccup passes)."""
        for iid in iids:
            pacer.wait()
            outcome = converge(iid)
            progress(iid, outcome)
            metrics.RECONCILE_ISSUES.labels(outcome="failed" if failed(outcome) else "converged").inc()
            (report.failed if failed(outcome) else report.converged).append(iid)

    def _record(self, report: ReconcileReport, run: FullRun) -> None:
        status = self.catch_up.status
        metrics.RECONCILE_CONVERGED.set(run.converged)
        if report.finished:
            status.save(full_run=None, full_last=run.started, full_next=run.started + self.catch_up.full_every)
            metrics.RECONCILE_LAST_SUCCESS.set(run.started.timestamp())
        else:
            status.save(full_run=run)
        if report.failed:  # said, not skipped: the log, the exit code, and the next full reconcile
            log.error("full reconcile: issues %s could not be converged (tried twice)", report.failed,
                      extra={"event": "reconcile", "outcome": "failed"})
