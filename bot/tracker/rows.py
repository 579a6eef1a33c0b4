"""One spreadsheet row turned into one application to import, or a reason why it cannot be.

Every check happens here, before anything is written, so a bad row is reported with its number
and never becomes half an issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from datetime import date
from urllib.parse import urlsplit

from bot.tracker.csvfile import Sheet, SheetRow
from bot.tracker.dates import DateError, parse_date
from bot.tracker.job import Job
from bot.tracker.mapping import ImportMapping, normalise
from bot.tracker.scores import ScoreError, ScoreRange, find_score, parse_score

# Where free text mentions a score: "MATCH 85%!", "Passung: 75-80 %". Plain "100% remote" is not one.
_SCORE_MENTION = re.compile(r"(?i)\b(?:match|matching|score|passung)\b[^\d\n]{0,12}")
# Score cells that say "no score" (normalised: "n/a" -> "n a", "k.A." -> "k a", "-" -> "").
NO_SCORE = frozenset({"", "n a", "na", "k a", "ka", "keine angabe", "none", "unknown", "unbekannt", "?"})
# Several dates in one cell: "12.03.2024, 19.03.2024", "12.3.24 und 19.3.24".
_DATE_LIST = re.compile(r"\s*(?:[,;\n]|\bund\b|\band\b)\s*")


class RowError(ValueError):
    """Why one row cannot be imported."""


class UnknownStatus(RowError):
    """A status word the mapping does not know; said in full once per word, then referred to."""

    def __init__(self, word: str) -> None:
        super().__init__(f"unknown status {word!r}")
        self.word = word


@dataclass(frozen=True)
class ImportRow:
    number: int
    key: str  # the row's identity across imports: its number cell, else its link, else its content
    job: Job
    notes: str
    status_text: str
    state: str
    score: ScoreRange | None
    applied: date | None
    decided: date | None
    interviews: tuple[date, ...] = ()


@dataclass(frozen=True)
class Columns:
    """Which cell of a row holds which column, from the header."""

    index: dict[str, int]
    ignored_headers: list[str]
    width: int

    @classmethod
    def from_headers(cls, headers: list[str], mapping: ImportMapping) -> "Columns":
        index: dict[str, int] = {}
        ignored = []
        for position, header in enumerate(headers):
            column = mapping.column_of(header) if header else None
            if column is None or column in index:
                ignored.append(header or f"(unnamed column {position + 1})")
            else:
                index[column] = position
        return cls(index=index, ignored_headers=ignored, width=len(headers))

    def cell(self, row: SheetRow, column: str) -> str:
        position = self.index.get(column)
        if position is None or position >= len(row.cells):
            return ""
        return row.cells[position].strip()


def row_key(url: str, title: str, provider: str) -> str:
    """The posting a row is about: its link, else its title and provider. Row numbers are no
    identity: two files (or a re-sorted sheet) number their rows each their own way."""
    if url:
        return f"url:{url}"
    return f"row:{normalise(title)}|{normalise(provider)}"


def _checked_url(text: str) -> str:
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise RowError(f"link {text!r} is not an http(s) URL")
    return text


def _score(cell: str, notes: str, title: str) -> ScoreRange | None:
    if normalise(cell) in NO_SCORE:
        cell = ""  # "n/a", "-", "k.A.": no score given, which is no mistake
    try:
        score = parse_score(cell)
    except ScoreError as exc:
        raise RowError(f"match score: {exc}") from exc
    if score is not None:
        return score
    for text in (notes, title):
        mention = _SCORE_MENTION.search(text)
        if mention:
            try:
                found = find_score(text[mention.end():mention.end() + 24])
            except ScoreError:
                found = None
            if found is not None:
                return found
    return None


def _date(cell: str, what: str) -> date | None:
    try:
        return parse_date(cell)
    except DateError as exc:
        raise RowError(f"{what}: {exc}") from exc


def _dates(cell: str, what: str) -> tuple[date, ...]:
    found = (_date(part, what) for part in _DATE_LIST.split(cell) if part.strip())
    return tuple(sorted(day for day in found if day))


def plan_row(row: SheetRow, columns: Columns, mapping: ImportMapping, initial_state: str) -> ImportRow:
    """The application in `row`, or RowError saying what is wrong with it."""
    extra = [c for c in row.cells[columns.width:] if c.strip()]
    if extra:
        raise RowError(f"{len(extra)} filled cell(s) right of the last named column (a stray separator?)")
    cell = partial(columns.cell, row)
    title = cell("title")
    if not title:
        raise RowError("the project/title cell is empty")
    url = _checked_url(cell("url"))
    applied = _date(cell("date"), "date")
    status_text = cell("status")
    state = mapping.state_for(status_text, applied is not None, initial_state)
    if state is None:
        raise UnknownStatus(status_text)
    return ImportRow(
        number=row.number,
        key=row_key(url, title, cell("provider")),
        job=Job(
            title=title,
            company=cell("company"),
            provider=cell("provider"),
            url=url,
            location=cell("location"),
            employment_type=cell("employment_type"),
            rate=cell("rate"),
        ),
        notes=cell("notes"),
        status_text=status_text,
        state=state,
        score=_score(cell("score"), cell("notes"), title),
        applied=applied,
        decided=_date(cell("decided"), "decision date"),
        interviews=_dates(cell("interview"), "interview date"),
    )


@dataclass(frozen=True)
class RowFailure:
    number: int
    reason: str


def plan_sheet(sheet: Sheet, mapping: ImportMapping, initial_state: str) -> tuple[list[ImportRow], list[RowFailure], Columns]:
    """Every row of `sheet` planned; the bad ones as failures, in row order."""
    columns = Columns.from_headers(sheet.headers, mapping)
    if "title" not in columns.index:
        raise RowError(
            f"no project/title column among the headers {sheet.headers}; "
            f"name one of: {', '.join(mapping.column_aliases['title'])}"
        )
    planned, failed = [], []
    first_seen: dict[str, int] = {}  # unknown status word -> the row that named it first
    for row in sheet.rows:
        try:
            planned.append(plan_row(row, columns, mapping, initial_state))
        except UnknownStatus as unknown:
            earlier = first_seen.setdefault(normalise(unknown.word), row.number)
            hint = (f"add it under `status:` in a --mapping file (known: {', '.join(mapping.known_words())})"
                    if earlier == row.number else f"as in row {earlier}")
            failed.append(RowFailure(row.number, f"{unknown} — {hint}"))
        except RowError as exc:
            failed.append(RowFailure(row.number, str(exc)))
    failed += [RowFailure(number, reason) for number, reason in sheet.damaged]
    failed.sort(key=lambda f: f.number)
    return planned, failed, columns
