"""Times as people type them after `/interview`: `2026-12-10 14:00`, `10.12. 14:00`,
`tomorrow 9:30`, `morgen um 9:30 Uhr`, `Dec 10 2pm`.

Relative words and German day-month dates are small rules of our own; anything else is left to
python-dateutil. A time of day is required (a round without one cannot go into a calendar), and
the words are read in the configured time zone, relative to when the comment was written, so a
replayed comment means the same moment it meant then.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

EXAMPLES = "2026-12-10 14:00, 10.12. 14:00, tomorrow 9:30"
MAX_WORDS = 6
_RELATIVE = {
    "today": 0, "heute": 0, "tomorrow": 1, "morgen": 1, "übermorgen": 2, "day after tomorrow": 2,
}
_WEEKDAYS = {
    name: index
    for names in (
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"),
    )
    for index, name in enumerate(names)
}
# The time of day at the end: 14:00, 9.30 Uhr, 9 Uhr, 2pm, 14h (9.30 alone could be a date).
_TIME = re.compile(r"(?:^|\s)(\d{1,2})(?:([:.])(\d{2}))?\s*(am|pm|uhr|h)?$", re.IGNORECASE)
_FILLER = re.compile(r"(?:^|\s)(?:at|um|on|am)$|,$", re.IGNORECASE)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})?$")


class WhenError(ValueError):
    """No time could be read at the start of the text."""


def _time_of_day(match: re.Match[str]) -> time | None:
    hour, separator, minute = int(match.group(1)), match.group(2), match.group(3)
    suffix = (match.group(4) or "").lower()
    if not suffix and (minute is None or separator == "."):
        return None  # a bare number is a day or a year, and 10.12 a date, not a time
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or int(minute or 0) > 59:
        return None
    return time(hour, int(minute or 0))


def _nearest_year(month: int, day: int, today: date) -> date:
    """A day and month without a year: the one nearest to today (a round is rarely half a year off)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("no such day")
    return min(candidates, key=lambda d: abs(d - today))


def _day(text: str, today: date) -> date | None:
    words = " ".join(text.casefold().split())
    if not words:
        return today
    if words in _RELATIVE:
        return today + timedelta(days=_RELATIVE[words])
    if words.removeprefix("next ").removeprefix("nächsten ") in _WEEKDAYS:
        ahead = (_WEEKDAYS[words.split()[-1]] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    try:
        if iso := _ISO_DAY.match(words):
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if german := _GERMAN_DAY.match(words):
            day, month, year = int(german.group(1)), int(german.group(2)), german.group(3)
            if year is None:
                return _nearest_year(month, day, today)
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    except ValueError:
        return None
    if not re.search(r"[a-z]", words) or ":" in words:
        return None  # digits dateutil would read month-first or as a time; ours did not match
    try:
        return dateutil_parser.parse(words, dayfirst=True, default=datetime.combine(today, time())).date()
    except (ValueError, OverflowError):
        return None


def _moment(text: str, today: date, zone: ZoneInfo) -> datetime | None:
    clock = _TIME.search(text)
    at = _time_of_day(clock) if clock else None
    if clock is None or at is None:
        return None
    rest = text[: clock.start()].strip()
    while (filler := _FILLER.search(rest)) is not None:
        rest = rest[: filler.start()].strip()
    day = _day(rest, today)
    return datetime.combine(day, at, tzinfo=zone) if day else None


def parse_when(text: str, *, now: datetime, zone: str) -> tuple[datetime, str]:
    """The moment written at the start of `text` (aware, in `zone`) and the text after it.

    `now` is when it was written: `tomorrow` and a year left out are read from there.
    """
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    words = text.split()
    for count in range(min(len(words), MAX_WORDS), 0, -1):
        moment = _moment(" ".join(words[:count]), today, tz)
        if moment is not None:
            rest = text.strip()
            for word in words[:count]:
                rest = rest[len(word):].lstrip()
            return moment, rest
    shown = " ".join(words[:MAX_WORDS]) or "(nothing)"
    raise WhenError(f"no date and time of day at the start of {shown!r}; write e.g. {EXAMPLES}")
