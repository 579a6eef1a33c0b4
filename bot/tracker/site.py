"""The static dashboard: one self-contained `index.html` (inline CSS, SVG and a tiny script) and
the `dashboard.json` it was drawn from, ready for GitLab Pages or any file server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.tracker.charts import Chart, Segment, columns, donut, stacked_rows
from bot.tracker.report import to_json
from bot.render import render
from bot.config.settings import WorkflowSettings

log = logging.getLogger(__name__)
FUNNEL_COLOR = "#1F78D1"
WEEKS_SHOWN = 52  # a year of weeks stays readable; dashboard.json keeps them all


def _hours(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


def build_charts(dashboard: dict[str, Any], workflow: WorkflowSettings) -> list[Chart]:
    colors = {name: state.color for name, state in workflow.states.items()}
    return [
        stacked_rows(
            "funnel",
            "Funnel: staged → approved → sent → interview → offer → hired",
            [(f["stage"], [Segment(f["stage"], f["count"], colors.get(f["stage"], FUNNEL_COLOR))]) for f in dashboard["funnel"]],
        ),
        donut(
            "states",
            "Where the matches are now",
            [Segment(name, count, colors[name]) for name, count in dashboard["states"].items()],
            (f"{round(100 * dashboard['rejected_share'])} %", "rejected"),
        ),
        columns(
            "per-week",
            "Matches per week" + (f" (last {WEEKS_SHOWN})" if len(dashboard["per_week"]) > WEEKS_SHOWN else ""),
            [(w["week"][2:], w["count"]) for w in dashboard["per_week"][-WEEKS_SHOWN:]],
        ),
        columns("scores", "Match score distribution", [(b["bucket"], b["count"]) for b in dashboard["score_distribution"]]),
        columns(
            "decision-time",
            f"Time from staging to decision (median {_hours(dashboard['decision_time']['median_hours'])})",
            [(b["bucket"], b["count"]) for b in dashboard["decision_time"]["buckets"]],
        ),
        stacked_rows(
            "providers",
            "By provider",
            [
                (p["provider"], [Segment(state, n, colors[state]) for state, n in p["states"].items()])
                for p in dashboard["providers"]
            ],
        ),
    ]


def render_site(dashboard: dict[str, Any], workflow: WorkflowSettings) -> str:
    return render(
        "dashboard/index.html.j2",
        dashboard=dashboard,
        charts=build_charts(dashboard, workflow),
        colors={name: state.color for name, state in workflow.states.items()},
        median_decision=_hours(dashboard["decision_time"]["median_hours"]),
    )


def write_site(directory: Path, dashboard: dict[str, Any], workflow: WorkflowSettings) -> Path:
    """Write `index.html` and `dashboard.json` into `directory` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    index = directory / "index.html"
    index.write_text(render_site(dashboard, workflow), encoding="utf-8")
    (directory / "dashboard.json").write_text(to_json(dashboard), encoding="utf-8")
    log.info("dashboard written to %s (%d applications)", index, len(dashboard["applications"]))
    return index
