"""`vorhoelle import-csv`: the reviewers' spreadsheet becomes one job-match issue per row.

Each issue carries two markers in its description: the `match` marker staging writes too (score,
key, job facts), so a later staging of the same posting finds it, and an `imported` marker naming
the row (`import:<row key>`) with its dates and notes. Re-running the import asks GitLab which
rows are there already and skips them: no local state, and a grown spreadsheet imports only
its new rows. Every row is checked before anything is written; a bad row is reported and the
import goes on.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from markupsafe import Markup

from bot import render
from bot.config.settings import Settings
from bot.gitlab_access import GitLabError
from bot.markers import parse_markers, render_marker, source_id
from bot.seams import GitLab
from bot.staging.labels import ensure_labels
from bot.staging.match import Match
from bot.staging.description import issue_title, score_label
from bot.staging.search import MATCH_KIND, match_marker
from bot.tracker.csvfile import Sheet
from bot.tracker.mapping import ImportMapping
from bot.tracker.records import IMPORTED_KIND
from bot.tracker.rows import ImportRow, RowFailure, plan_sheet

logger = logging.getLogger(__name__)

IMPORT_SOURCE = "import"
MARKER_NOTES_CHARS = 2000
# `{score}` with its percent sign and the separator after it, taken out of a title for no score.
_SCORE_PART = re.compile(r"\s*\{score\}\s*%?\s*[—–:|-]?\s*")


@dataclass
class ImportSummary:
    rows: int = 0
    created: list[tuple[int, int]] = field(default_factory=list)  # (row, issue iid)
    planned: list[int] = field(default_factory=list)  # rows a dry run would create
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    failed: list[RowFailure] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """What GitLab already holds: the sources of the bot's import and match markers."""

    sources: dict[str, int]  # marker source -> issue iid

    def issue_for(self, row: ImportRow, as_match: Match) -> int | None:
        return _first_claim(self.sources, row_sources(row, as_match))


def row_sources(row: ImportRow, as_match: Match) -> list[str]:
    """What identifies a row's application: the row's key, and its posting as staging knows it."""
    return [source_id(IMPORT_SOURCE, row.key), source_id(MATCH_KIND, as_match.key)]


def _first_claim(claims: dict[str, int], sources: list[str]) -> int | None:
    return next((claims[source] for source in sources if source in claims), None)


def as_match(row: ImportRow) -> Match:
    """The row in staging's terms, for its key and title; unvalidated, as a row may lack a score."""
    score = row.score.text if row.score else "?"
    job = row.job
    return Match.model_construct(title=job.title, provider=job.provider or None, url=job.url or None,
                                 location=job.location or None,
                                 score=score)  # type: ignore[arg-type]  # a row's score as written, unvalidated


def known_sources(gitlab: GitLab, marker_label: str) -> Known:
    """Every import and match marker the bot wrote into a job-match issue, open or closed."""
    bot_id = gitlab.bot_user.id
    sources: dict[str, int] = {}
    for issue in gitlab.iter_issues(labels=[marker_label], state="all"):
        if (issue.get("author") or {}).get("id") != bot_id:
            continue
        match = match_marker(issue, bot_id)
        if match is not None:
            sources[match.source] = issue["iid"]
        for marker in parse_markers(issue.get("description")):
            if marker.kind == IMPORTED_KIND:
                sources[marker.source] = issue["iid"]
    return Known(sources)


def _facts(row: ImportRow) -> list[tuple[str, str]]:
    rows = [
        ("Company", row.job.company),
        ("Provider", row.job.provider),
        ("Location", row.job.location),
        ("Employment type", row.job.employment_type),
        ("Rate", row.job.rate),
        ("Match score", f"{row.score.text} %" if row.score else ""),
        ("Applied", row.applied.isoformat() if row.applied else ""),
        ("Decided", row.decided.isoformat() if row.decided else ""),
        ("Interviews", ", ".join(day.isoformat() for day in row.interviews)),
        ("Apply by", row.apply_by.isoformat() if row.apply_by else ""),
    ]
    return [(label, value) for label, value in rows if value]


def row_title(settings: Settings, row: ImportRow, match: Match) -> str:
    """Staging's title; for a row without a score, the template without its score ("?%" says nothing)."""
    if row.score:
        return issue_title(settings, match)
    template = _SCORE_PART.sub(" ", settings.staging.title_template).strip()
    return issue_title(settings.model_copy(update={"staging": settings.staging.model_copy(
        update={"title_template": template})}), match)


def _lifecycle_dates(settings: Settings, row: ImportRow) -> dict[str, Any]:
    """The row's dates as timeline events: interview rounds, and the answer — an outcome's date
    when the row ended (a final state), else the day the employer replied."""
    decided = row.decided.isoformat() if row.decided else None
    final = row.state in settings.workflow.lifecycle.close or row.state in ("rejected", "approved")
    return {
        "interviews": [day.isoformat() for day in row.interviews],
        "replied": None if final else decided,
        "outcome": row.state if final and decided else None,
    }


def render_description(settings: Settings, row: ImportRow, source_name: str) -> str:
    match = as_match(row)
    score = {"score": row.score.low, "score_max": row.score.high} if row.score else {}
    markers = "\n".join([
        render_marker(MATCH_KIND, source_id(MATCH_KIND, match.key), token=match.key_hash,
                      **score, **row.job.facts(),
                      **({"apply_by": row.apply_by.isoformat()} if row.apply_by else {})),
        render_marker(IMPORTED_KIND, source_id(IMPORT_SOURCE, row.key), row=row.number,
                      file=source_name, status=row.status_text,
                      applied=row.applied.isoformat() if row.applied else None,
                      decided=row.decided.isoformat() if row.decided else None,
                      notes=row.notes[:MARKER_NOTES_CHARS], **_lifecycle_dates(settings, row)),
    ])
    return render.render(
        "tracker/imported.md.j2",
        row=row,
        source=source_name,
        facts=_facts(row),
        markers=Markup(markers),
        max_field_chars=settings.staging.max_field_chars,
    )


def issue_labels(settings: Settings, row: ImportRow) -> list[str]:
    workflow = settings.workflow
    labels = [workflow.marker_label, workflow.states[row.state].label]
    scored = score_label(settings, row.score.low) if row.score else None
    return labels + ([scored] if scored else [])


Progress = Callable[[int, str], None]


def import_sheet(
    settings: Settings,
    gitlab: GitLab | None,
    sheet: Sheet,
    mapping: ImportMapping,
    *,
    source_name: str,
    dry_run: bool = False,
    progress: Progress = lambda row, text: None,
) -> ImportSummary:
    """Create an issue for every new, valid row of `sheet`; `gitlab=None` checks the rows only."""
    planned, failed, columns = plan_sheet(sheet, mapping, settings.workflow.initial_state)
    summary = ImportSummary(rows=len(sheet.rows) + len(sheet.damaged), failed=list(failed),
                            ignored_headers=columns.ignored_headers)
    unreported = list(failed)  # each failure said once, where its row comes in the sheet

    def report_failures_before(number: int) -> None:
        while unreported and unreported[0].number < number:
            failure = unreported.pop(0)
            progress(failure.number, f"failed: {failure.reason}")

    known = known_sources(gitlab, settings.workflow.marker_label) if gitlab else Known({})
    if gitlab and not dry_run:
        ensure_labels(settings, gitlab)
    seen: dict[str, int] = {}  # source -> the row of this file that had it first
    for row in planned:
        report_failures_before(row.number)
        match = as_match(row)
        sources = row_sources(row, match)
        existing, earlier = known.issue_for(row, match), _first_claim(seen, sources)
        skip = f"already imported as #{existing}" if existing is not None else None
        if skip is None and earlier is not None:
            skip = f"same application as row {earlier}"
        if skip:
            summary.skipped.append((row.number, skip))
            progress(row.number, f"skipped: {skip}")
        elif dry_run or gitlab is None:   # no GitLab is given for a dry run
            summary.planned.append(row.number)
            progress(row.number, f"would create: {row.job.title} [{row.state}]")
        else:
            _create(settings, gitlab, row, match, source_name, summary, progress)
        for source in sources:
            seen.setdefault(source, row.number)
    report_failures_before(sys.maxsize)
    summary.failed.sort(key=lambda f: f.number)
    return summary


def _create(settings: Settings, gitlab: GitLab, row: ImportRow, match: Match, source_name: str,
            summary: ImportSummary, progress: Progress) -> None:
    try:
        issue = gitlab.create_issue(
            row_title(settings, row, match), render_description(settings, row, source_name), issue_labels(settings, row)
        )
    except GitLabError as error:
        summary.failed.append(RowFailure(row.number, f"GitLab refused the issue: {error}"))
        progress(row.number, f"failed: {error}")
        return
    if row.state in settings.workflow.lifecycle.close:
        try:
            gitlab.edit_issue(issue["iid"], state_event="close")  # a final state closes, as a step would
        except GitLabError as error:
            logger.warning("imported row %d as #%s but could not close it: %s", row.number, issue["iid"], error)
    summary.created.append((row.number, issue["iid"]))
    logger.info("imported row %d as issue #%s", row.number, issue["iid"],
                extra={"event": "imported", "row": row.number, "issue": issue["iid"]})
    progress(row.number, f"created #{issue['iid']}: {row.job.title} [{row.state}]")
