"""Match scores as people type them: "MATCH 85%!", "75-80%", "95%+", "0.87".

A score is kept as a range of whole percents, because a reviewer who wrote "75-80%" knew no more
than that; a single value is a range of one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A whole number, never the tail of a longer one: "1000%" is a thousand percent (no score), not 0 %.
_NUMBER = r"(?<!\d)(?<!\d[.,])(\d+(?:[.,]\d+)?)"
_RANGE = re.compile(_NUMBER + r"\s*%?\s*(?:-|–|—|bis|to)\s*" + _NUMBER + r"\s*%")
_AT_LEAST = re.compile(r"(?:(?:>=?|≥|ab|über|over)\s*" + _NUMBER + r"\s*%)|(?:" + _NUMBER + r"\s*%\s*\+)")
_PERCENT = re.compile(_NUMBER + r"\s*%")
_BARE_RANGE = re.compile(r"^\s*" + _NUMBER + r"\s*(?:-|–|—)\s*" + _NUMBER + r"\s*$")
_BARE = re.compile(r"^\s*(?:>=?|≥)?\s*" + _NUMBER + r"\s*(\+?)\s*$")


class ScoreError(ValueError):
    """A score cell that says something, but no score."""


@dataclass(frozen=True)
class ScoreRange:
    low: int
    high: int

    @property
    def text(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def _percent(raw: str, fraction_allowed: bool) -> int:
    value = float(raw.replace(",", "."))
    if fraction_allowed and ("." in raw or "," in raw) and value <= 1:
        value *= 100
    if not 0 <= value <= 100:
        raise ScoreError(f"score not understood: {raw}% is more than 100 %")
    return int(value + 0.5)


def _ordered(low: int, high: int) -> ScoreRange:
    return ScoreRange(min(low, high), max(low, high))


def find_score(text: str) -> ScoreRange | None:
    """The first score written with a percent sign in free text ("MATCH 85%!"), if any."""
    candidates = []
    for pattern in (_RANGE, _AT_LEAST, _PERCENT):
        match = pattern.search(text)
        if match:
            candidates.append((match.start(), pattern, match))
    if not candidates:
        return None
    _, pattern, match = min(candidates, key=lambda c: c[0])
    if pattern is _RANGE:
        return _ordered(_percent(match.group(1), False), _percent(match.group(2), False))
    if pattern is _AT_LEAST:
        return ScoreRange(_percent(match.group(1) or match.group(2), False), 100)
    return ScoreRange(*(2 * [_percent(match.group(1), False)]))


def parse_score(cell: str) -> ScoreRange | None:
    """A score column's cell: free text as above, or a bare number ("85", "0.87", "75-80", "95+").

    Empty means no score; anything else that holds no score raises ScoreError.
    """
    if not cell.strip():
        return None
    bare_range = _BARE_RANGE.match(cell)
    if bare_range:
        return _ordered(_percent(bare_range.group(1), True), _percent(bare_range.group(2), True))
    bare = _BARE.match(cell)
    if bare:
        value = _percent(bare.group(1), True)
        at_least = bare.group(2) or cell.strip()[0] in ">≥"
        return ScoreRange(value, 100 if at_least else value)
    found = find_score(cell)
    if found is None:
        raise ScoreError(f"no score in {cell.strip()!r} (write e.g. 85%, 75-80%, 95%+ or 0.87)")
    return found
