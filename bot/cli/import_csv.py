"""`vorhoelle import-csv`: bring the reviewers' application spreadsheet into GitLab."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-csv",
        help="create one job-match issue per row of an application spreadsheet (CSV)",
        description=(
            "Create one job-match issue per row of FILE, labelled with the row's state "
            "(versendet -> sent, Interview -> interview, Angebot -> offer, zugesagt -> hired, "
            "abgelehnt -> turned-down, zurückgezogen -> withdrawn, offen -> pending, \"nicht "
            "beworben\" -> rejected, \"keine Antwort\" -> no-reply, and their English words; a row "
            "with an application date is at least sent) and marked as imported; final states are "
            "closed. Rows already in GitLab (same link, or same title and provider) are skipped, so "
            "the import can be re-run after the spreadsheet grew. Reads comma-, semicolon- or tab-separated files in UTF-8 (with or without BOM), "  # noqa: E501
            "Windows-1252 or UTF-16, with German or English headers. A bad row is reported with "
            "its number and the import goes on. Exits 0 when every row was imported or skipped, "
            "1 when a row failed, 2 when the file or mapping cannot be used."
        ),
        epilog="example: vorhoelle import-csv bewerbungen.csv --dry-run",
    )
    parser.add_argument("file", metavar="FILE", help="the CSV file exported from the spreadsheet")
    parser.add_argument("--mapping", metavar="YAML",
                        help="status words and header names to add to the defaults (see config/import-mapping.yml)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check every row and show what would be created; write nothing to GitLab")
    parser.set_defaults(func=run)


def _refuse(message: object, code: int) -> int:
    print(f"vorhoelle import-csv: {message}", file=sys.stderr)
    return code


def _print_summary(summary: Any, dry_run: bool) -> None:
    made = f"would create {len(summary.planned)}" if dry_run else f"created {len(summary.created)}"
    failed = f" (rows {', '.join(str(f.number) for f in summary.failed)}, each said above)" if summary.failed else ""
    print(f"{summary.rows} rows: {made}, skipped {len(summary.skipped)}, failed {len(summary.failed)}{failed}")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.cli.stage import EXIT_FAILED, EXIT_INVALID
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.staging.errors import StagingError
    from bot.tracker.csvfile import CsvFileError, read_sheet
    from bot.tracker.importer import import_sheet
    from bot.tracker.mapping import MappingError, load_mapping
    from bot.tracker.rows import RowError

    settings = command_settings(args)
    path = Path(args.file)
    try:
        mapping = load_mapping(args.mapping, states=list(settings.workflow.states))
        sheet = read_sheet(path.read_bytes())
    except OSError as error:
        return _refuse(f"cannot read {path}: {error.strerror}", EXIT_INVALID)
    except (MappingError, CsvFileError) as error:
        return _refuse(error, EXIT_INVALID)
    delimiter = {"\t": "tab"}.get(sheet.delimiter, repr(sheet.delimiter))
    print(f"reading {path.name}: {sheet.encoding}, separated by {delimiter}, {len(sheet.rows)} rows", flush=True)

    def progress(row: int, text: str) -> None:
        print(f"  row {row}: {text}", flush=True)

    try:
        gitlab = GitLabAccess.from_settings(settings)
    except GitLabError as error:
        if not args.dry_run:
            return _refuse(error, EXIT_INVALID)
        gitlab = None
        print(f"checking the rows only, not which are in GitLab already: {error}")
    try:
        summary = import_sheet(settings, gitlab, sheet, mapping, source_name=path.name,
                               dry_run=args.dry_run, progress=progress)
    except RowError as error:
        return _refuse(error, EXIT_INVALID)
    except (GitLabError, StagingError) as error:
        return _refuse(error, EXIT_FAILED)
    if summary.ignored_headers:
        print(f"columns not imported: {', '.join(summary.ignored_headers)}")
    _print_summary(summary, args.dry_run)
    return EXIT_FAILED if summary.failed else 0
