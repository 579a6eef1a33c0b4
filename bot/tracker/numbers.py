"""What the numbers say: the funnel with its conversions, which sources answer, how long each
state takes, and how the review backlog grows. Pure: applications (bot/tracker/records.py) in,
plain figures out; `vorhoelle report` prints them and the dashboard shows them.

Definitions (the README's "What the numbers say" repeats them):
- replied: the employer answered in any way after sending (a /reply, an interview round, an
  offer, or an outcome they caused: turned-down); no-reply and the person's own withdrawal are
  no answer. The first reply is the first such event.
- source: the host of the posting's link (freelancermap.de); provider: who offers the job.
- rates are shares of the applications *sent* in the group; days to the first reply count from
  the sending (or the sheet's application date).
- time in a state: from the event that entered it to the next state's; the current state counts
  up to `now`, unless it is final (hired, rejected, ...).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Callable
from urllib.parse import urlsplit

from bot.tracker.dates import iso_week
from bot.tracker.records import Application

FUNNEL = ("staged", "approved", "sent", "replied", "interview", "offer", "hired")
ANSWERS = frozenset({"reply", "round", "offer", "interview", "hired", "turned-down", "declined"})
STATE_EVENTS = frozenset({"staged", "imported"})   # events that are no state of their own
FINAL = frozenset({"hired", "declined", "turned-down", "withdrawn", "rejected"})
SCORE_BANDS = [(90, "90–100"), (80, "80–89"), (70, "70–79"), (0, "under 70")]


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def first_reply(app: Application) -> datetime | None:
    sent = app.applied_at
    answers = [e.at for e in app.events if e.kind in ANSWERS and (sent is None or e.at >= sent)]
    return min(answers) if answers else None


def reached(app: Application) -> set[str]:
    """The funnel's steps this application reached."""
    steps = {"staged"} | (app.reached & set(FUNNEL))
    if first_reply(app) is not None or steps & {"interview", "offer", "hired"}:
        steps.add("replied")
    return steps


def funnel(apps: list[Application]) -> list[dict[str, Any]]:
    """Each step's count, its share of the staged, and its conversion from the step before."""
    counts = [sum(1 for a in apps if step in reached(a)) for step in FUNNEL]
    return [
        {"step": step, "count": count, "of_staged": _share(count, counts[0]),
         "conversion": _share(count, counts[i - 1]) if i else 1.0 if count else 0.0}
        for i, (step, count) in enumerate(zip(FUNNEL, counts))
    ]


def score_band(app: Application) -> str:
    if app.score is None:
        return "no score"
    return next(label for low, label in SCORE_BANDS if app.score.low >= low)


def source(app: Application) -> str:
    """Where the posting was found: its link's host (`www.` dropped); "" without a link."""
    return (urlsplit(app.job.url).hostname or "").removeprefix("www.")


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


def answers_by(apps: list[Application], key: Callable[[Application], str]) -> list[dict[str, Any]]:
    """Per group of sent applications: how many, the response and interview rate, and the median
    days to the first reply; the groups with most sent first."""
    groups: dict[str, list[Application]] = {}
    for app in apps:
        if "sent" in app.reached:
            groups.setdefault(key(app) or "unknown", []).append(app)
    rows = []
    for name, members in groups.items():
        replies = [(first_reply(a), a.applied_at) for a in members]
        waits = [_days(r - s) for r, s in replies if r is not None and s is not None]
        rows.append({
            "group": name, "sent": len(members),
            "response_rate": _share(sum(1 for a in members if "replied" in reached(a)), len(members)),
            "interview_rate": _share(sum(1 for a in members if "interview" in reached(a)), len(members)),
            "median_days_to_reply": round(median(waits), 1) if waits else None,
        })
    return sorted(rows, key=lambda r: (-r["sent"], r["group"]))


def time_in_states(apps: list[Application], now: datetime) -> list[dict[str, Any]]:
    """Per state: how many stays, the median and the slowest in days (with its issue)."""
    stays: dict[str, list[tuple[float, int]]] = {}
    for app in apps:
        moves = [(app.staged_at, "pending")] + [(e.at, e.kind) for e in app.events
                                                 if e.kind not in STATE_EVENTS and e.kind not in ("reply", "round")]
        moves.sort(key=lambda m: m[0])
        for (start, state), (end, after) in zip(moves, [*moves[1:], (now, "")]):
            if end >= start and (after or state not in FINAL):   # a final state's stay never ends
                stays.setdefault(state, []).append((_days(end - start), app.iid))
    return [
        {"state": state, "count": len(found), "median_days": round(median(d for d, _ in found), 1),
         "slowest_days": max(found)[0], "slowest_iid": max(found)[1]}
        for state, found in sorted(stays.items())
    ]


def staged_per_week(apps: list[Application]) -> list[dict[str, Any]]:
    counts = Counter(iso_week(a.staged_at) for a in apps)
    return [{"week": week, "count": counts[week]} for week in sorted(counts)]


def _decided_at(app: Application) -> datetime | None:
    moves = [e.at for e in app.events if e.kind not in STATE_EVENTS | {"pending"}]
    return min(moves) if moves else None


def review_backlog(apps: list[Application], now: datetime) -> list[dict[str, Any]]:
    """At the end of each week from the first staging to now: matches staged and not yet decided."""
    if not apps:
        return []
    first = min(a.staged_at for a in apps)
    moment = first - timedelta(days=first.weekday()) + timedelta(days=7)
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    while True:
        at = min(moment, now)
        waiting = sum(1 for a in apps if a.staged_at < at and ((d := _decided_at(a)) is None or d >= at))
        rows.append({"week": iso_week(at - timedelta(seconds=1)), "waiting": waiting})
        if moment >= now:
            return rows
        moment += timedelta(days=7)


def in_period(apps: list[Application], since: datetime | None, until: datetime | None) -> list[Application]:
    """The applications staged in [since, until)."""
    return [a for a in apps if (since is None or a.staged_at >= since) and (until is None or a.staged_at < until)]


def numbers(apps: list[Application], now: datetime) -> dict[str, Any]:
    """Every figure of the report, for `apps` (already limited to the period)."""
    return {
        "applications": len(apps),
        "funnel": funnel(apps),
        "by_source": answers_by(apps, source),
        "by_provider": answers_by(apps, lambda a: a.job.provider),
        "by_score_band": answers_by(apps, score_band),
        "time_in_state": time_in_states(apps, now),
        "staged_per_week": staged_per_week(apps),
        "review_backlog": review_backlog(apps, now),
    }
