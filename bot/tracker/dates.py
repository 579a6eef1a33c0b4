"""Dates as spreadsheets write them, and the little date arithmetic the reports need.

Accepted: ISO (2024-03-12, with or without a time), German (12.03.2024, 12.3.24) and
day-first slashes (12/03/2024). Month-first US dates are not guessed: 03/12 is the 3rd of December.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})$")


class DateError(ValueError):
    """A date cell that is not a date."""


def parse_date(cell: str) -> date | None:
    """The date in a cell, None for an empty cell; DateError for anything else."""
    text = cell.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    match = _DAY_FIRST.match(text.split(" ")[0])
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year + 2000 if year < 100 else year, month, day)
        except ValueError as exc:
            raise DateError(f"{text!r} is not a real date ({exc})") from exc
    raise DateError(f"{text!r} is not a date (write 2024-03-12 or 12.03.2024)")


def start_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def iso_week(moment: datetime) -> str:
    """`2024-W11`: the week matches are counted in."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
