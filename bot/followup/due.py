"""Which reminders an issue is owed at a given time. Pure: a snapshot and `now` in, no I/O.

Every reminder has a source that names its occasion (`reminder:review:<since>:<period>`,
`reminder:deadline:<date>`, `reminder:interview:<round>:<hours>h`, ...): a reminder whose source
already has a `reminder` marker in the bot's notes was sent, and is never owed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.settings import Settings
from bot.followup import REMINDER
from bot.markers import Marker
from bot.snapshot import IssueSnapshot

SNOOZE, REMIND = "snooze", "remind"   # the marker kinds /snooze and /remind leave


@dataclass(frozen=True)
class Reminder:
    iid: int
    kind: str        # review | deadline | nudge | no-reply | interview | snooze-over | remind
    source: str      # reminder:<kind>:<occasion>
    text: str
    mention: str | None = None   # /remind: the username of the person who asked
    waited_days: float = 0       # review: how long the match has been waiting


def _at(marker: Marker) -> datetime | None:
    try:
        return datetime.fromisoformat(str(marker.data["at"]))
    except (KeyError, ValueError):
        return None


def sent_reminders(snapshot: IssueSnapshot) -> set[str]:
    return {m.source for m in snapshot.bot_markers if m.kind == REMINDER}


def current_state(snapshot: IssueSnapshot, settings: Settings) -> str:
    from bot.workflow import recorded_state   # the workflow's reading of the state, not a copy
    return recorded_state(snapshot, settings.workflow)


def _entered(snapshot: IssueSnapshot, state: str) -> datetime:
    """When the match last reached `state` (the issue's creation when it started there)."""
    steps = [m for m in snapshot.bot_markers if m.kind == "transition" and m.data.get("to") == state]
    return (_at(steps[-1]) if steps else None) or snapshot.created_at


def snoozed_until(snapshot: IssueSnapshot) -> datetime | None:
    """The end of the latest /snooze, when one was recorded."""
    snoozes = [m for m in snapshot.bot_markers if m.kind == SNOOZE and m.data.get("until")]
    return datetime.fromisoformat(snoozes[-1].data["until"]) if snoozes else None


def is_snoozed(snapshot: IssueSnapshot, now: datetime) -> bool:
    until = snoozed_until(snapshot)
    return until is not None and now < until


def _days(delta: timedelta) -> int:
    return int(delta.total_seconds() // 86400)


def _company(snapshot: IssueSnapshot) -> str:
    """Who the application went to, as the staged description says (templates escape it)."""
    from bot.tracker.description import read_facts

    facts = read_facts(snapshot.description or "")
    return str(facts.get("provider") or facts.get("title") or snapshot.title)


def review(snapshot: IssueSnapshot, settings: Settings, now: datetime) -> Reminder | None:
    """A match waiting for review: once per `review_after_days` period it waits."""
    if current_state(snapshot, settings) != settings.workflow.initial_state or is_snoozed(snapshot, now):
        return None
    since = _entered(snapshot, settings.workflow.initial_state)
    period = timedelta(days=settings.follow_up.review_after_days)
    periods = int((now - since) / period)
    if periods < 1:
        return None
    waited = (now - since).total_seconds() / 86400
    source = f"{REMINDER}:review:{since.isoformat(timespec='seconds')}:{periods}"
    return Reminder(snapshot.iid, "review", source, f"waiting for review for {int(waited)} days", waited_days=waited)


def apply_by(snapshot: IssueSnapshot) -> date | None:
    match = snapshot.match_marker.data if snapshot.match_marker else {}
    try:
        return date.fromisoformat(str(match["apply_by"]))
    except (KeyError, ValueError):
        return None


def deadline(snapshot: IssueSnapshot, settings: Settings, now: datetime) -> Reminder | None:
    """`deadline_days_before` days before the match's `apply_by` (the start of that day in the
    configured zone), while it is pending or approved and not snoozed."""
    day = apply_by(snapshot)
    if day is None or is_snoozed(snapshot, now):
        return None
    if current_state(snapshot, settings) not in (settings.workflow.initial_state, "approved"):
        return None
    zone = ZoneInfo(settings.workflow.lifecycle.timezone)
    last = datetime.combine(day + timedelta(days=1), time(), zone)   # the end of the day
    if not last - timedelta(days=settings.follow_up.deadline_days_before + 1) <= now < last:
        return None
    left = (day - now.astimezone(zone).date()).days
    when = "today" if left == 0 else "tomorrow" if left == 1 else f"in {left} days"
    return Reminder(snapshot.iid, "deadline", f"{REMINDER}:deadline:{day.isoformat()}",
                    f"apply by {day.isoformat()} ({when})")


def _replied_since(snapshot: IssueSnapshot, since: datetime) -> bool:
    return any(m.kind == "transition" and m.data.get("happened") == "reply" and (_at(m) or since) >= since
               for m in snapshot.bot_markers)


def unanswered(snapshot: IssueSnapshot, settings: Settings, now: datetime) -> Reminder | None:
    """Sent without a reply: a nudge after `nudge_after_days`, and after `lifecycle.no_reply_days`
    the move to no-reply (kind `no-reply`, which the sweep asks the converge for)."""
    if current_state(snapshot, settings) != "sent":
        return None
    sent = _entered(snapshot, "sent")
    if _replied_since(snapshot, sent):
        return None
    waited = now - sent
    stamp = sent.isoformat(timespec="seconds")
    if waited >= timedelta(days=settings.workflow.lifecycle.no_reply_days):
        return Reminder(snapshot.iid, "no-reply", f"{REMINDER}:no-reply:{stamp}",
                        f"no answer for {_days(waited)} days after sending")
    if waited >= timedelta(days=settings.follow_up.nudge_after_days) and not is_snoozed(snapshot, now):
        return Reminder(snapshot.iid, "nudge", f"{REMINDER}:nudge:{stamp}",
                        f"no answer from {_company(snapshot)} for {_days(waited)} days — follow up?")
    return None


def interviews(snapshot: IssueSnapshot, settings: Settings, now: datetime) -> list[Reminder]:
    """Before each round still ahead: the reminder of the nearest threshold passed (a round
    recorded 30 minutes ahead gets the hour's reminder, not also the day's)."""
    if current_state(snapshot, settings) != "interview":
        return []
    zone = ZoneInfo(settings.workflow.lifecycle.timezone)
    found = []
    for marker in snapshot.bot_markers:
        if marker.kind != "transition" or marker.data.get("happened") != "round":
            continue
        try:
            when = datetime.fromisoformat(str(marker.data["when"]))
        except (KeyError, ValueError):
            continue
        passed = [h for h in settings.follow_up.interview_hours_before if when - timedelta(hours=h) <= now < when]
        if not passed:
            continue
        hours = min(passed)
        who = f" with {marker.data['with']}" if marker.data.get("with") else ""
        local = when.astimezone(zone)
        text = f"interview{who} {local:%a %d %b %Y, %H:%M} ({zone.key})"
        found.append(Reminder(snapshot.iid, "interview", f"{REMINDER}:interview:{marker.source}:{hours:g}h", text))
    return found


def asked(snapshot: IssueSnapshot, now: datetime) -> list[Reminder]:
    """What people asked for: /remind when its time came, and the end of a /snooze."""
    found = []
    for marker in snapshot.bot_markers:
        due = _time(marker, "due")
        if marker.kind == REMIND and due is not None and due <= now:
            found.append(Reminder(snapshot.iid, "remind", f"{REMINDER}:remind:{marker.source}",
                                  str(marker.data.get("text") or "you asked to be reminded"),
                                  mention=marker.data.get("username")))
    until = snoozed_until(snapshot)
    latest = next((m for m in reversed(snapshot.bot_markers) if m.kind == SNOOZE), None)
    if latest is not None and until is not None and until <= now:
        found.append(Reminder(snapshot.iid, "snooze-over", f"{REMINDER}:snooze-over:{latest.source}",
                              "back from snooze: reminders and digests include it again"))
    return found


def _time(marker: Marker, key: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(marker.data[key]))
    except (KeyError, ValueError):
        return None


def owed(snapshot: IssueSnapshot, settings: Settings, now: datetime) -> list[Reminder]:
    """Every reminder `snapshot`'s issue is owed at `now` and was not sent yet."""
    found: list[Any] = [review(snapshot, settings, now), deadline(snapshot, settings, now),
                        unanswered(snapshot, settings, now), *interviews(snapshot, settings, now),
                        *asked(snapshot, now)]
    done = sent_reminders(snapshot)
    return [r for r in found if r is not None and r.source not in done]


def still_following(snapshot: IssueSnapshot, done: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether a /snooze or /remind on the issue is still ahead (its follow-up label stays);
    `done`: reminders just recorded that the snapshot does not show yet."""
    done = sent_reminders(snapshot) | set(done)
    pending_remind = any(m.kind == REMIND and f"{REMINDER}:remind:{m.source}" not in done for m in snapshot.bot_markers)
    latest = next((m for m in reversed(snapshot.bot_markers) if m.kind == SNOOZE), None)
    pending_snooze = latest is not None and f"{REMINDER}:snooze-over:{latest.source}" not in done
    return pending_remind or pending_snooze
