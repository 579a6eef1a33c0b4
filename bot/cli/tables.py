"""Plain-text tables for terminal output: columns as wide as their widest cell, no library."""

from __future__ import annotations

from typing import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 60) -> str:
    """Left-aligned columns; a cell longer than `max_width` is shortened with `…`."""

    def fit(value: object) -> str:
        text = " ".join(str("" if value is None else value).split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[fit(h) for h in headers]] + [[fit(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
