"""`interviews.ics`: every interview round and application deadline still ahead, as one
iCalendar file (RFC 5545, written by the `icalendar` library) that a calendar app subscribes to.

UIDs are stable (the issue, and the round's time or "apply-by"), so a calendar that reads the
file again updates its entries instead of adding them twice; a deadline moved keeps its entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from bot.lifecycle.ics import ROUND_LENGTH
from bot.tracker.records import Application

FINAL = ("hired", "declined", "turned-down", "withdrawn", "rejected", "no-reply")


def _uid(app: Application, what: str) -> str:
    return f"vorhoelle-{app.iid}-{what}@{urlsplit(app.issue_url).hostname or 'vorhoelle'}"


def upcoming_calendar(apps: list[Application], now: datetime) -> bytes:
    """The rounds ahead of `now` of applications still open, and the `apply_by` days of those
    not yet sent."""
    calendar = Calendar()
    calendar.add("prodid", "-//Vorhölle//interviews and deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Job applications: interviews and deadlines")
    for app in sorted(apps, key=lambda a: a.iid):
        if app.state in FINAL:
            continue
        for event in app.events:
            if event.kind == "round" and event.when is not None and event.when > now:
                entry = _entry(app, _uid(app, f"round-{event.when.strftime('%Y%m%dT%H%M%SZ')}"), now,
                               f"Interview: {app.job.title}" + (f" (with {event.with_})" if event.with_ else ""))
                entry.add("dtstart", event.when)
                entry.add("dtend", event.when + ROUND_LENGTH)
                calendar.add_component(entry)
        if app.apply_by is not None and "sent" not in app.reached and app.apply_by >= now.date():
            entry = _entry(app, _uid(app, "apply-by"), now, f"Apply by: {app.job.title}")
            entry.add("dtstart", app.apply_by)
            entry.add("dtend", app.apply_by + timedelta(days=1))
            calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _entry(app: Application, uid: str, now: datetime, summary: str) -> Event:
    entry = Event()
    entry.add("uid", uid)
    entry.add("dtstamp", now)
    entry.add("summary", summary)
    entry.add("description", "\n".join(filter(None, [app.job.provider, app.issue_url])))
    entry.add("url", app.issue_url)
    return entry
