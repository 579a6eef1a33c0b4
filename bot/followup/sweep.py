"""One reminder sweep: find the issues that may be owed a reminder through GitLab's own filters,
write what is owed, and let the notifier deliver it.

The issues come from a few label queries, never a walk over the project: matches waiting for
review (`labels=<pending>`, `created_before` a period ago, or an `apply_by` due date near),
approved ones with a due date near, sent ones older than the nudge (`created_before`), those in
interview, and those carrying the follow-up label (a /snooze or /remind running). A reminder is
a note with a `reminder` marker (`at`: when it was due), so it is sent once however often the
sweep runs or the bot restarts; the notifier delivers it as the event `reminder` and records the
delivery like any other. A match sent without reply for `lifecycle.no_reply_days` is moved to
no-reply by the converge itself (an API action from the bot, named after the send, so it happens
once). Nothing is written during the notifier's quiet hours: the sweep after them sends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from markupsafe import Markup

from bot.config.settings import Settings
from bot.followup import REMINDER, due
from bot.history import mention
from bot.markers import render_marker
from bot.notify.clock import QuietWindow, system_clock
from bot.render import render
from bot.snapshot import IssueSnapshot, read_snapshot

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    at: datetime
    reminders: list[due.Reminder] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)      # sent -> no-reply
    failed: list[int] = field(default_factory=list)
    quiet: bool = False

    def lines(self) -> list[str]:
        if self.quiet:
            return [f"{self.at:%Y-%m-%d %H:%M} UTC is within quiet hours: nothing sent"]
        return [f"#{r.iid} {r.kind}: {r.text}" for r in self.reminders] or ["no reminder is due"]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def candidates(gitlab: Any, settings: Settings, now: datetime) -> list[int]:
    """The iids that may be owed a reminder, from label queries (see the module's docstring)."""
    workflow, follow_up = settings.workflow, settings.follow_up
    label = {name: state.label for name, state in workflow.states.items()}
    soon = (now + timedelta(days=follow_up.deadline_days_before + 1)).date()
    found: set[int] = set()

    def near_deadline(issue: dict[str, Any]) -> bool:
        try:
            return date.fromisoformat(str(issue.get("due_date"))) <= soon
        except ValueError:
            return False

    review_since = _stamp(now - timedelta(days=follow_up.review_after_days))
    found |= {i["iid"] for i in gitlab.iter_issues(labels=[label[workflow.initial_state]], state="opened",
                                                    created_before=review_since)}
    for state in (workflow.initial_state, "approved"):
        if state in label:
            found |= {i["iid"] for i in gitlab.iter_issues(labels=[label[state]], state="opened") if near_deadline(i)}
    if "sent" in label:
        nudge_since = _stamp(now - timedelta(days=min(follow_up.nudge_after_days, workflow.lifecycle.no_reply_days)))
        found |= {i["iid"] for i in gitlab.iter_issues(labels=[label["sent"]], state="opened", created_before=nudge_since)}
    if "interview" in label:
        found |= {i["iid"] for i in gitlab.iter_issues(labels=[label["interview"]], state="opened")}
    found |= {i["iid"] for i in gitlab.iter_issues(labels=[follow_up.label])}
    return sorted(found)


def review_summary(reminders: list[due.Reminder]) -> str:
    """"4 matches waiting, oldest 6 days": the one line every review reminder of a sweep shares."""
    waiting = [r for r in reminders if r.kind == "review"]
    oldest = int(max(r.waited_days for r in waiting))
    return f"{len(waiting)} match{'es' if len(waiting) != 1 else ''} waiting, oldest {oldest} days"


def note_body(reminders: list[due.Reminder], now: datetime) -> str:
    """One note for one issue's reminders of a sweep: a line each, and the markers recording them."""
    markers = [render_marker(REMINDER, r.source, reminder=r.kind, text=r.text, at=now.isoformat(timespec="seconds"))
               for r in reminders]
    mentions = sorted({r.mention for r in reminders if r.mention})
    return render("notes/reminder.md.j2", reminders=reminders, mentions=[mention(m) for m in mentions],
                  markers=Markup("\n".join(markers)))


def _move_to_no_reply(runtime: Any, reminder: due.Reminder, now: datetime) -> None:
    from bot.converge import converge_issue
    from bot.workflow import ApiAction

    action = ApiAction(request_id=reminder.source.replace(":", "-"), action="no-reply", actor="vorhoelle",
                       reason=reminder.text, created_at=now)
    converge_issue(runtime, reminder.iid, api_actions=[action])


def sweep(runtime: Any, *, dry_run: bool = False, clock: Callable[[], datetime] | None = None) -> SweepReport:
    """Send every reminder due now (with `dry_run`: only say which)."""
    settings: Settings = runtime.settings
    clock = clock or getattr(runtime.notifier, "clock", None) or system_clock
    now = clock()
    report = SweepReport(now)
    quiet = QuietWindow.from_settings(settings.notify.quiet_hours)
    if quiet is not None and quiet.is_quiet(now):
        report.quiet = True
        return report
    owed: list[tuple[IssueSnapshot, list[due.Reminder]]] = []
    for iid in candidates(runtime.gitlab, settings, now):
        snapshot = read_snapshot(runtime.gitlab, iid)
        reminders = due.owed(snapshot, settings, now)
        report.reminders += reminders
        if reminders or settings.follow_up.label in snapshot.labels:
            owed.append((snapshot, reminders))
    if dry_run:
        return report
    if any(r.kind == "review" for r in report.reminders):
        line = review_summary(report.reminders)
        report.reminders = [due.Reminder(r.iid, r.kind, r.source, line, waited_days=r.waited_days)
                            if r.kind == "review" else r for r in report.reminders]
    written = []
    for snapshot, _ in owed:
        mine = [r for r in report.reminders if r.iid == snapshot.iid]
        try:
            written += _write(runtime, snapshot, mine, now, report)
        except Exception as error:  # one issue's trouble must not hold the others' reminders
            log.warning("reminders: issue #%s failed: %s", snapshot.iid, error, extra={"issue": snapshot.iid})
            report.failed.append(snapshot.iid)
    if written and runtime.notifier is not None:
        runtime.notifier.on_staged([read_snapshot(runtime.gitlab, iid) for iid in written])   # one batched round
    log.info("reminders: %d sent, %d moved to no-reply", len(report.reminders) - len(report.moved), len(report.moved),
             extra={"event": "reminders"})
    return report


def _write(runtime: Any, snapshot: IssueSnapshot, reminders: list[due.Reminder], now: datetime,
           report: SweepReport) -> list[int]:
    """Record `snapshot`'s reminders; the iids whose notes the notifier should look at."""
    settings = runtime.settings
    notes = [r for r in reminders if r.kind != "no-reply"]
    for reminder in reminders:
        if reminder.kind == "no-reply":
            _move_to_no_reply(runtime, reminder, now)
            report.moved.append(reminder.iid)
            log.info("issue #%s: no answer, moved to no-reply", reminder.iid, extra={"issue": reminder.iid})
    if notes:
        internal = snapshot.confidential and settings.workflow.confidential.internal_history
        runtime.gitlab.create_note(snapshot.iid, note_body(notes, now), internal=internal)
        for reminder in notes:
            log.info("issue #%s: reminder %s: %s", snapshot.iid, reminder.kind, reminder.text,
                     extra={"issue": snapshot.iid, "event": REMINDER})
    following = due.still_following(snapshot, done={r.source for r in notes})
    has_label = settings.follow_up.label in snapshot.labels
    if has_label and not following:
        runtime.gitlab.update_labels(snapshot.iid, remove=[settings.follow_up.label])
    return [snapshot.iid] if notes else []
