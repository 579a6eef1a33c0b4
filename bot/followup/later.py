"""When `/snooze` and `/remind` mean: `3d`, `12h`, `1w` from the comment's time, or `until` a day
(`until 2026-12-15`, `until 15.12.`: the start of that day in the configured zone) or a moment
(`until 2026-12-15 9:30`, read like an interview's time)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.lifecycle.when import WhenError, parse_when

_SPAN = re.compile(r"^(\d{1,3})\s*([hdw])(?![a-z])\s*(.*)$", re.IGNORECASE | re.DOTALL)
_UNTIL = re.compile(r"^(?:until|bis)\s+(.*)$", re.IGNORECASE | re.DOTALL)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?![\d:])\s*(.*)$", re.DOTALL)
_DOTTED_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})?(?![\d:])\s*(.*)$", re.DOTALL)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
USAGE = "write 3d, 12h, 1w, or until 2026-12-15"


def parse_later(text: str, *, now: datetime, zone: str) -> tuple[datetime, str]:
    """The moment `text` starts with (aware) and the rest of the text; `WhenError` when none."""
    text = text.strip()
    if span := _SPAN.match(text):
        amount, unit, rest = span.groups()
        if int(amount) == 0:
            raise WhenError(f"{text!r} is no time ahead; {USAGE}")
        return now + timedelta(**{_UNITS[unit.lower()]: int(amount)}), rest.strip()
    until = _UNTIL.match(text)
    if until is None:
        raise WhenError(f"cannot read {text!r} as a time ahead; {USAGE}")
    local = ZoneInfo(zone)
    wanted = until.group(1).strip()
    try:
        return parse_when(wanted, now=now, zone=zone)
    except WhenError:
        pass
    day, rest = _day(wanted, now.astimezone(local).date())
    moment = datetime.combine(day, time(), local)
    if moment <= now:
        raise WhenError(f"{day.isoformat()} is not ahead; {USAGE}")
    return moment, rest


def _day(text: str, today: date) -> tuple[date, str]:
    try:
        if iso := _ISO_DAY.match(text):
            year, month, day, rest = iso.groups()
            return date(int(year), int(month), int(day)), rest.strip()
        if dotted := _DOTTED_DAY.match(text):
            day, month, year, rest = dotted.groups()
            found = date(int(year) if year else today.year, int(month), int(day))
            if not year and found < today:
                found = found.replace(year=today.year + 1)
            return found, rest.strip()
    except ValueError as error:
        raise WhenError(f"{text!r} is not a day: {error}") from None
    raise WhenError(f"cannot read the day in {text!r}; {USAGE}")
