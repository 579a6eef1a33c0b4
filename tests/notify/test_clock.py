"""Quiet hours: across midnight, in any time zone, with daylight saving."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.notify.clock import QuietWindow
from bot.config.settings import QuietHours


def window(start: str, end: str, zone: str = "Europe/Berlin") -> QuietWindow:
    return QuietWindow.from_settings(QuietHours(start=start, end=end, timezone=zone))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "now, quiet",
    [
        ("2025-01-15T20:59", False),   # 21:59 in Berlin (winter, UTC+1)
        ("2025-01-15T21:00", True),    # 22:00
        ("2025-01-15T23:30", True),    # 00:30, after midnight
        ("2025-01-16T05:59", True),    # 06:59
        ("2025-01-16T06:00", False),   # 07:00
        ("2025-07-15T20:30", True),    # 22:30 in summer (UTC+2)
        ("2025-07-16T05:00", False),   # 07:00 in summer
    ],
)
def test_across_midnight_in_local_time(now, quiet):
    assert window("22:00", "07:00").is_quiet(utc(now)) is quiet


def test_window_within_one_day_and_empty_window():
    lunch = window("12:00", "13:00", "UTC")
    assert lunch.is_quiet(utc("2025-01-15T12:30")) and not lunch.is_quiet(utc("2025-01-15T13:00"))
    assert not window("07:00", "07:00").is_quiet(utc("2025-01-15T06:00"))


def test_settings_refuse_unreadable_times_and_zones():
    with pytest.raises(ValueError, match="HH:MM"):
        QuietHours(start="10pm", end="07:00")
    with pytest.raises(ValueError, match="time zone"):
        QuietHours(start="22:00", end="07:00", timezone="Mars/Olympus")
