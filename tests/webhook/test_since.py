"""`--since` for `vorhoelle catch-up`: relative spans and both of GitLab's time formats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.catch_up import parse_since

AT = datetime(2025, 1, 10, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("7d", AT - timedelta(days=7)),
    ("3h", AT - timedelta(hours=3)),
    (" 30m ", AT - timedelta(minutes=30)),
    ("1.5h", AT - timedelta(minutes=90)),
    ("2w", AT - timedelta(weeks=2)),
    ("2025-01-10T10:00:00Z", datetime(2025, 1, 10, 10, tzinfo=timezone.utc)),
    ("2025-01-10T11:00:00+01:00", datetime(2025, 1, 10, 10, tzinfo=timezone.utc)),
    ("2025-01-10 10:00:00 UTC", datetime(2025, 1, 10, 10, tzinfo=timezone.utc)),
    ("2025-01-10", datetime(2025, 1, 10, tzinfo=timezone.utc)),
])
def test_since_reads_spans_and_times(text, expected):
    assert parse_since(text, at=AT) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days", "-3h", ""])
def test_since_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError, match="give 7d, 3h, 30m or an ISO 8601 time"):
        parse_since(text, at=AT)
