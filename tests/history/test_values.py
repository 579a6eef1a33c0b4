"""Scores and dates as people type them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tracker.dates import DateError, parse_date
from bot.tracker.scores import ScoreError, ScoreRange, find_score, parse_score


@pytest.mark.parametrize(
    ("cell", "low", "high"),
    [
        ("MATCH 85%!", 85, 85),
        ("75-80%", 75, 80),
        ("75 – 80", 75, 80),
        ("80-75%", 75, 80),
        ("95%+", 95, 100),
        ("95+", 95, 100),
        (">90 %", 90, 100),
        ("0.87", 87, 87),
        ("0,87", 87, 87),
        ("1.0", 100, 100),
        ("85", 85, 85),
        ("87,5 %", 88, 88),
        ("Match: 75%-80%", 75, 80),
    ],
)
def test_score_cells(cell: str, low: int, high: int) -> None:
    assert parse_score(cell) == ScoreRange(low, high)


@pytest.mark.parametrize("cell", ["abc", "120", "150%", "ca. viel"])
def test_a_score_cell_without_a_score_is_an_error(cell: str) -> None:
    with pytest.raises(ScoreError):
        parse_score(cell)


@pytest.mark.parametrize("cell", ["1000%", "MATCH 1000%!", "über 9000 %", "120-130%", "2000%+"])
def test_a_number_above_100_is_not_a_score_nor_its_last_digits(cell: str) -> None:
    with pytest.raises(ScoreError, match=r"^score not understood: \d+% is more than 100 %$"):
        parse_score(cell)


def test_an_empty_score_cell_is_no_score() -> None:
    assert parse_score("  ") is None


def test_free_text_needs_a_percent_sign() -> None:
    assert find_score("called on 12.03., rate 95") is None
    assert find_score("Passt gut, 80% laut Tool") == ScoreRange(80, 80)


@given(st.integers(0, 100), st.integers(0, 100))
def test_every_written_range_reads_back(low: int, high: int) -> None:
    score = ScoreRange(min(low, high), max(low, high))
    assert parse_score(f"{score.text}%") == score


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("2024-03-12", date(2024, 3, 12)), ("12.03.2024", date(2024, 3, 12)), ("12.3.24", date(2024, 3, 12)),
     ("12/03/2024", date(2024, 3, 12)), ("2024-03-12 09:30", date(2024, 3, 12)), ("", None)],
)
def test_dates(cell: str, expected: date | None) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["31.02.2024", "gestern", "2024-13-01"])
def test_a_date_cell_without_a_date_is_an_error(cell: str) -> None:
    with pytest.raises(DateError):
        parse_date(cell)
