"""The application tracker's table: 17 columns, one row per application.

The same rows go to the CSV file, Google Sheets, `dashboard.json` and the dashboard's table, so
every report says the same thing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.tracker.numbers import source
from bot.tracker.records import Application

COLUMNS: list[tuple[str, str]] = [
    ("application_id", "Application ID"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("status", "Status"),
    ("application_date", "Application date"),
    ("source", "Source"),
    ("location", "Location"),
    ("job_url", "Job URL"),
    ("employment_type", "Employment type"),
    ("rate", "Rate or salary range"),
    ("match_score", "Match score"),
    ("requirements_met", "Requirements met"),
    ("requirements_missing", "Requirements missing"),
    ("skill_suggestions", "Skill suggestions"),
    ("last_event_type", "Last event type"),
    ("last_event_date", "Last event date"),
    ("notes", "Notes"),
]
# A spreadsheet runs a cell starting with one of these as a formula: untrusted text must not.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def row_of(app: Application) -> dict[str, str]:
    return {
        "application_id": str(app.iid),
        "company": app.job.company or app.job.provider,   # a staged match names who offers the job
        "job_title": app.job.title,
        "status": app.state,
        "application_date": _day(app.applied_at),
        "source": app.job.provider if app.job.company else source(app),   # else: where it was posted
        "location": app.job.location,
        "job_url": app.job.url,
        "employment_type": app.job.employment_type,
        "rate": app.job.rate,
        "match_score": app.score.text if app.score else "",
        "requirements_met": "; ".join(app.requirements_met),
        "requirements_missing": "; ".join(app.requirements_missing),
        "skill_suggestions": "; ".join(app.skill_suggestions),
        "last_event_type": app.last_event.kind,
        "last_event_date": app.last_event.at.isoformat(timespec="seconds"),
        "notes": app.notes,
    }


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def described(self) -> dict[str, Any]:
        """The filters in use, as dashboard.json records them (dates in ISO form)."""
        given = {
            "state": list(self.states),
            "provider": list(self.providers),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in given.items() if value}

    def keep(self, app: Application) -> bool:
        """Whether `app` belongs in the report; dates compare the day it was staged or listed."""
        day = app.staged_at.date()
        return (
            (not self.states or app.state in self.states)
            and (not self.providers or app.job.provider.casefold() in {p.casefold() for p in self.providers})
            and (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
        )


def inert_cell(text: str) -> str:
    """`=HYPERLINK(...)` from a job ad stays text when a spreadsheet opens the file."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def table_values(apps: list[Application], *, guard_formulas: bool = True) -> list[list[str]]:
    """Header and rows as a grid of strings. `guard_formulas=False` only where nothing is ever
    evaluated (Google Sheets' RAW input), since there the guard would show as a stray quote."""
    header = [title for _, title in COLUMNS]
    guard = inert_cell if guard_formulas else str
    return [header] + [[guard(row_of(app)[key]) for key, _ in COLUMNS] for app in apps]


def csv_text(apps: list[Application]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table_values(apps))
    return out.getvalue()
