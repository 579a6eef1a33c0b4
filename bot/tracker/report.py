"""`dashboard.json`: every figure the dashboard shows, computed from the applications.

The document is versioned (`schema_version`) and described by docs/dashboard.schema.json, so
other tools can read it; the HTML dashboard is rendered from this same document.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any

from bot.tracker.dates import iso_week
from bot.tracker.records import DECISIONS, Application, Event
from bot.tracker.table import row_of

SCHEMA_VERSION = 1
FUNNEL = ("staged", "approved", "sent", "interview", "offer", "hired")
SCORE_BUCKETS = [(90, 100), (80, 89), (70, 79), (60, 69), (50, 59), (0, 49)]
# Upper bounds in hours of the time-to-decision buckets, with their labels.
DECISION_BUCKETS = [(1, "< 1 h"), (24, "1–24 h"), (72, "1–3 days"), (168, "3–7 days"), (None, "> 7 days")]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def funnel(apps: list[Application]) -> list[dict[str, Any]]:
    counts = [len(apps)] + [sum(1 for a in apps if stage in a.reached) for stage in FUNNEL[1:]]
    return [{"stage": s, "count": c, "share": _share(c, len(apps))} for s, c in zip(FUNNEL, counts)]


def per_week(apps: list[Application]) -> list[dict[str, Any]]:
    """Matches per ISO week from the first to the last, weeks without matches included."""
    if not apps:
        return []
    counts = Counter(iso_week(a.staged_at) for a in apps)
    first, last = min(a.staged_at for a in apps), max(a.staged_at for a in apps)
    weeks, moment = [], first - timedelta(days=first.weekday())
    while moment <= last:
        weeks.append(iso_week(moment))
        moment += timedelta(weeks=1)
    return [{"week": week, "count": counts.get(week, 0)} for week in weeks]


def score_distribution(apps: list[Application]) -> list[dict[str, Any]]:
    """Counted by each score's lower bound; applications without a score come last."""
    buckets = [
        {"bucket": f"{low}-{high}", "count": sum(1 for a in apps if a.score and low <= a.score.low <= high)}
        for low, high in SCORE_BUCKETS
    ]
    return buckets + [{"bucket": "none", "count": sum(1 for a in apps if a.score is None)}]


def decision_time(apps: list[Application]) -> dict[str, Any]:
    hours = [
        (a.decided_at - a.staged_at).total_seconds() / 3600
        for a in apps
        if a.decided_at and a.decided_at >= a.staged_at
    ]
    buckets, lower = [], 0.0
    for upper, label in DECISION_BUCKETS:
        count = sum(1 for h in hours if h >= lower and (upper is None or h < upper))
        buckets.append({"bucket": label, "count": count})
        lower = upper or lower
    return {
        "count": len(hours),
        "median_hours": round(median(hours), 2) if hours else None,
        "buckets": buckets,
    }


def providers(apps: list[Application], states: list[str]) -> list[dict[str, Any]]:
    """Per provider, the applications in each state now, the busiest provider first."""
    names = Counter(a.job.provider or "(none)" for a in apps)
    return [
        {
            "provider": name,
            "total": total,
            "states": {s: sum(1 for a in apps if (a.job.provider or "(none)") == name and a.state == s) for s in states},
        }
        for name, total in sorted(names.items(), key=lambda item: (-item[1], item[0].casefold()))
    ]


def timeline_entry(event: Event) -> dict[str, Any]:
    entry = {"kind": event.kind, "at": event.at.isoformat(timespec="seconds"), "who": event.actor, "via": event.via}
    extra = {"text": event.text, "when": event.when.isoformat(timespec="minutes") if event.when else None,
             "with": event.with_}
    return {**entry, **{key: value for key, value in extra.items() if value}}


def application_entry(app: Application) -> dict[str, Any]:
    return {
        **row_of(app),
        "issue_iid": app.iid,
        "issue_url": app.issue_url,
        "imported": app.imported,
        "staged_at": app.staged_at.isoformat(timespec="seconds"),
        "decided_at": app.decided_at.isoformat(timespec="seconds") if app.decided_at else None,
        "decided_by": app.decided_by,
        "score_low": app.score.low if app.score else None,
        "score_high": app.score.high if app.score else None,
        "timeline": [timeline_entry(event) for event in app.events],
    }


def build_dashboard(
    apps: list[Application], states: list[str], project: str, filters: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """The whole `dashboard.json` document for `apps` (already filtered)."""
    state_counts = {s: sum(1 for a in apps if a.state == s) for s in states}
    decided = sum(1 for a in apps if a.state in DECISIONS)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "project": project,
        "filters": filters,
        "states": state_counts,
        "funnel": funnel(apps),
        "rejected_share": _share(state_counts.get("rejected", 0), decided),
        "per_week": per_week(apps),
        "score_distribution": score_distribution(apps),
        "decision_time": decision_time(apps),
        "providers": providers(apps, states),
        "applications": [application_entry(a) for a in sorted(apps, key=lambda a: a.staged_at, reverse=True)],
    }


def to_json(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"
