"""What the numbers say, against a history computed by hand (bot/tracker/numbers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.tracker.job import Job
from bot.tracker.numbers import in_period, numbers
from bot.tracker.records import Application, Event
from bot.tracker.scores import ScoreRange

T0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)   # a Monday, ISO week 45
NOW = T0 + timedelta(days=35)


def app(iid, score, provider, url, staged, state, *steps, applied=None):
    """`steps`: (days after T0, event kind)."""
    return Application(
        iid=iid, issue_url=f"https://gitlab.example.com/-/issues/{iid}",
        job=Job(title=f"Job {iid}", provider=provider, url=url),
        score=ScoreRange(score, score) if score is not None else None,
        requirements_met=(), requirements_missing=(), skill_suggestions=(), state=state, imported=False,
        staged_at=T0 + timedelta(days=staged),
        applied_at=T0 + timedelta(days=applied) if applied is not None else None,
        decided_at=None, decided_by="",
        events=tuple(Event(T0 + timedelta(days=d), kind, "rita") for d, kind in steps), notes="",
    )


HISTORY = [
    app(1, 92, "Nordlicht", "https://www.freelancermap.de/p/1", 0, "hired",
        (1, "approved"), (2, "sent"), (5, "reply"), (6, "interview"), (12, "offer"), (14, "hired"), applied=2),
    app(2, 85, "Nordlicht", "https://gulp.de/p/2", 1, "turned-down",
        (2, "approved"), (3, "sent"), (10, "turned-down"), applied=3),
    app(3, 75, "Acme", "https://freelancermap.de/p/3", 7, "no-reply",
        (8, "approved"), (9, "sent"), (30, "no-reply"), applied=9),
    app(4, 72, "Acme", "https://gulp.de/p/4", 8, "rejected", (9, "rejected")),
    app(5, None, "", "", 9, "pending"),
]


def test_the_funnel_counts_and_converts_each_step():
    funnel = {r["step"]: (r["count"], r["conversion"]) for r in numbers(HISTORY, NOW)["funnel"]}
    assert funnel == {"staged": (5, 1.0), "approved": (3, 0.6), "sent": (3, 1.0), "replied": (2, 0.6667),
                      "interview": (1, 0.5), "offer": (1, 1.0), "hired": (1, 1.0)}


def test_who_answers_per_source_provider_and_score_band():
    figures = numbers(HISTORY, NOW)
    row = lambda r: (r["group"], r["sent"], r["response_rate"], r["interview_rate"], r["median_days_to_reply"])  # noqa: E731
    assert [row(r) for r in figures["by_provider"]] == [("Nordlicht", 2, 1.0, 0.5, 5.0), ("Acme", 1, 0.0, 0.0, None)]
    assert [row(r) for r in figures["by_source"]] == [("freelancermap.de", 2, 0.5, 0.5, 3.0), ("gulp.de", 1, 1.0, 0.0, 7.0)]
    assert [row(r) for r in figures["by_score_band"]] == [
        ("70–79", 1, 0.0, 0.0, None), ("80–89", 1, 1.0, 0.0, 7.0), ("90–100", 1, 1.0, 1.0, 3.0)]


def test_time_in_each_state_the_weeks_and_the_backlog():
    figures = numbers(HISTORY, NOW)
    stays = {r["state"]: (r["count"], r["median_days"], r["slowest_days"], r["slowest_iid"]) for r in figures["time_in_state"]}
    assert stays == {"pending": (5, 1.0, 26.0, 5), "approved": (3, 1.0, 1.0, 3), "sent": (3, 7.0, 21.0, 3),
                     "interview": (1, 6.0, 6.0, 1), "offer": (1, 2.0, 2.0, 1), "no-reply": (1, 5.0, 5.0, 3)}
    assert figures["staged_per_week"] == [{"week": "2026-W45", "count": 2}, {"week": "2026-W46", "count": 3}]
    assert figures["review_backlog"] == [{"week": f"2026-W{w}", "waiting": n}
                                         for w, n in ((45, 0), (46, 1), (47, 1), (48, 1), (49, 1), (50, 1))]


def test_a_period_limits_the_applications_by_their_staging():
    week_46 = in_period(HISTORY, T0 + timedelta(days=7), T0 + timedelta(days=14))
    assert [a.iid for a in week_46] == [3, 4, 5]
    assert numbers(week_46, NOW)["funnel"][2] == {"step": "sent", "count": 1, "of_staged": 0.3333, "conversion": 1.0}
