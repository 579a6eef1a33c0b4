"""An interview round as a calendar entry (`.ics`, RFC 5545), attached to the e-mail that
announces it, so the reviewer can put it into any calendar with one click.

The entry's UID is the round's source, so a calendar that gets the same round twice (a repeated
message) updates the entry instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event

ROUND_LENGTH = timedelta(hours=1)  # a round's length is rarely typed; an hour blocks the slot


def round_invite(*, source: str, starts: datetime, title: str, with_whom: str | None, note: str | None,
                 url: str, stamp: datetime | None = None) -> bytes:
    """The `.ics` file for one interview round starting at `starts` (aware, in its own zone)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Vorhölle//interview round//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{source}@vorhoelle")
    event.add("dtstamp", stamp or datetime.now(timezone.utc))
    event.add("dtstart", starts)
    event.add("dtend", starts + ROUND_LENGTH)
    event.add("summary", f"Interview: {title}" + (f" (with {with_whom})" if with_whom else ""))
    event.add("description", "\n".join(filter(None, [note, url])))
    event.add("url", url)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
