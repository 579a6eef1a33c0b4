"""interviews.ics: the rounds and deadlines ahead, with UIDs that stay the same between exports."""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar

from bot.tracker.calendar import upcoming_calendar
from bot.tracker.records import Event
from tests.unit.test_numbers import T0, app

NOW = T0 + timedelta(days=10)


def test_upcoming_rounds_and_deadlines_with_stable_uids():
    ahead = T0 + timedelta(days=12, hours=5)
    interviewing = app(7, 88, "Nordlicht", "https://gulp.de/p/7", 0, "interview", (2, "sent"), applied=2)
    interviewing = interviewing.__class__(**{**vars(interviewing), "events": interviewing.events + (
        Event(T0 + timedelta(days=3), "round", "rita", when=T0 + timedelta(days=4)),          # past
        Event(T0 + timedelta(days=9), "round", "rita", when=ahead, with_="the CTO"))})
    waiting = app(8, 80, "Acme", "", 9, "pending")
    waiting = waiting.__class__(**{**vars(waiting), "apply_by": date(2026, 11, 20)})
    sent_late = app(9, 80, "Acme", "", 1, "sent", (2, "sent"), applied=2)
    sent_late = sent_late.__class__(**{**vars(sent_late), "apply_by": date(2026, 11, 20)})

    first = upcoming_calendar([interviewing, waiting, sent_late], NOW)
    entries = [(str(e["uid"]), str(e["summary"]), e.decoded("dtstart")) for e in Calendar.from_ical(first).walk("VEVENT")]
    assert entries == [
        ("vorhoelle-7-round-20261114T140000Z@gitlab.example.com", "Interview: Job 7 (with the CTO)", ahead),
        ("vorhoelle-8-apply-by@gitlab.example.com", "Apply by: Job 8", date(2026, 11, 20)),
    ]
    again = upcoming_calendar([interviewing, waiting, sent_late], NOW + timedelta(hours=1))
    assert [str(e["uid"]) for e in Calendar.from_ical(again).walk("VEVENT")] == [uid for uid, _, _ in entries]
    assert upcoming_calendar([interviewing], ahead + timedelta(minutes=1)).count(b"BEGIN:VEVENT") == 0
