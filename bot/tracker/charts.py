"""Chart geometry for the dashboard: where each bar, arc and label goes.

Only numbers are computed here; `templates/dashboard/charts.html.j2` turns them into inline SVG,
with every label (a provider's name is untrusted text) escaped by the template. No chart library,
no CDN: the page works offline and on GitLab Pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 480
ACCENT = "#1F78D1"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    tip: str


@dataclass(frozen=True)
class Arc:
    radius: float
    stroke: float
    length: float  # of the circle's outline this arc covers
    offset: float  # where along the outline it starts
    color: str
    tip: str

    @property
    def gap(self) -> float:
        return 2 * math.pi * self.radius - self.length


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = "label"


@dataclass
class Chart:
    id: str
    title: str
    height: float
    width: float = WIDTH
    rects: list[Rect] = field(default_factory=list)
    arcs: list[Arc] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.rects or self.arcs)


@dataclass(frozen=True)
class Segment:
    name: str
    value: int
    color: str


def _nothing(chart: Chart) -> Chart:
    chart.labels.append(Label(chart.width / 2, chart.height / 2, "No data yet", "middle", "muted"))
    return chart


def columns(chart_id: str, title: str, values: list[tuple[str, int]], color: str = ACCENT) -> Chart:
    """Vertical bars, one per (label, value), value on top; long series label every n-th bar."""
    chart = Chart(chart_id, title, height=220)
    if not any(value for _, value in values):
        return _nothing(chart)
    top, bottom, side = 22, 34, 24  # the side margin leaves room for half a centred label
    slot = (chart.width - 2 * side) / len(values)
    scale = (chart.height - top - bottom) / max(value for _, value in values)
    every = math.ceil(len(values) / 8)
    for i, (name, value) in enumerate(values):
        height = value * scale
        x = side + i * slot
        y = chart.height - bottom - height
        chart.rects.append(Rect(x + slot * 0.15, y, slot * 0.7, height, color, f"{name}: {value}"))
        if value and len(values) <= 26:
            chart.labels.append(Label(x + slot / 2, y - 5, str(value), "middle", "value"))
        if i % every == 0:
            chart.labels.append(Label(x + slot / 2, chart.height - bottom + 16, name, "middle"))
    return chart


def stacked_rows(chart_id: str, title: str, rows: list[tuple[str, list[Segment]]]) -> Chart:
    """Horizontal bars, one row per name, each split into coloured segments; the total at the end.

    The name sits above its bar across the whole width, so a long provider name is never cut
    at the chart's left edge (it was, right-aligned before a narrow label column)."""
    row_height, value_width, label_chars = 40, 44, 60
    chart = Chart(chart_id, title, height=max(len(rows), 1) * row_height + 6)
    totals = [sum(s.value for s in segments) for _, segments in rows]
    if not any(totals):
        return _nothing(chart)
    scale = (chart.width - value_width) / max(totals)
    for i, ((name, segments), total) in enumerate(zip(rows, totals)):
        y, x = 3 + i * row_height, 0.0
        shown = name if len(name) <= label_chars else name[: label_chars - 1] + "…"
        chart.labels.append(Label(0, y + 13, shown, "start"))
        for segment in segments:
            width = segment.value * scale
            if width:
                chart.rects.append(Rect(x, y + 18, width, row_height - 22, segment.color, f"{name} · {segment.name}: {segment.value}"))
            x += width
        chart.labels.append(Label(x + 6, y + 31, str(total), "start", "value"))
    return chart


def donut(chart_id: str, title: str, parts: list[Segment], centre: tuple[str, str]) -> Chart:
    """A ring split by `parts`, a figure and its caption (`centre`) in its middle, a legend right."""
    chart = Chart(chart_id, title, height=200)
    total = sum(p.value for p in parts)
    if not total:
        return _nothing(chart)
    radius, stroke = 70.0, 28.0
    outline = 2 * math.pi * radius
    done = 0.0
    for i, part in enumerate(parts):
        length = outline * part.value / total
        if length:
            chart.arcs.append(Arc(radius, stroke, length, done, part.color, f"{part.name}: {part.value}"))
        done += length
        chart.rects.append(Rect(210, 40 + i * 30, 16, 16, part.color, f"{part.name}: {part.value}"))
        share = round(100 * part.value / total)
        chart.labels.append(Label(234, 53 + i * 30, f"{part.name}: {part.value} ({share} %)"))
    figure, caption = centre
    chart.labels.append(Label(100, 102, figure, "middle", "centre"))
    chart.labels.append(Label(100, 120, caption, "middle", "muted"))
    return chart
