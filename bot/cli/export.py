"""`vorhoelle export`: the application history, computed from GitLab, as CSV, JSON, a static
dashboard or a Google Sheet."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the applications as CSV, dashboard.json, a static HTML dashboard or Google Sheets",
        description=(
            "Read every job-match issue (labels, label events, the bot's notes) from GitLab and "
            "write the application tracker: --csv (17 columns), --json (dashboard.json, schema in "
            "docs/dashboard.schema.json), --site (index.html with charts and a searchable table, "
            "plus dashboard.json and interviews.ics; ready for GitLab Pages), --ics (the interview "
            "rounds and deadlines ahead, for a calendar app), --sheets (Google Sheets). Give one or "
            "more. Exit status: 0 done, 1 GitLab or Google failed, 2 invalid options."
        ),
        epilog="example: vorhoelle export --site public --csv applications.csv --since 2025-01-01",
    )
    out = parser.add_argument_group("outputs")
    out.add_argument("--csv", metavar="FILE", help="the 17-column tracker table as CSV (- for standard output)")
    out.add_argument("--json", metavar="FILE", help="dashboard.json (- for standard output)")
    out.add_argument("--site", metavar="DIR", help="a static dashboard: DIR/index.html and DIR/dashboard.json")
    out.add_argument("--ics", metavar="FILE", help="every upcoming interview round and apply-by day as iCalendar")
    out.add_argument("--sheets", metavar="SPREADSHEET_ID", help="write the table to this Google spreadsheet")
    which = parser.add_argument_group("filters")
    which.add_argument("--state", action="append", default=[], help="only this state (repeatable)")
    which.add_argument("--provider", action="append", default=[], help="only this provider (repeatable, any case)")
    which.add_argument("--since", metavar="DATE", help="only applications staged on or after DATE (2025-01-31)")
    which.add_argument("--until", metavar="DATE", help="only applications staged on or before DATE")
    google = parser.add_argument_group("Google Sheets (extra 'sheets')")
    google.add_argument("--sheets-range", default="Applications!A1", metavar="A1",
                        help="where the table starts (default Applications!A1; the sheet must exist)")
    google.add_argument("--sheets-input", choices=["RAW", "USER_ENTERED"], default="RAW",
                        help="RAW keeps every cell as text (default); USER_ENTERED lets Sheets parse dates and numbers")
    google.add_argument("--sheets-token", metavar="FILE", default=os.environ.get("VORHOELLE_SHEETS_TOKEN_FILE"),
                        help="OAuth user token file (authorized-user JSON; env VORHOELLE_SHEETS_TOKEN_FILE)")
    google.add_argument("--sheets-service-account", metavar="FILE",
                        default=os.environ.get("VORHOELLE_SHEETS_SERVICE_ACCOUNT_FILE"),
                        help="service account key file (env VORHOELLE_SHEETS_SERVICE_ACCOUNT_FILE)")
    google.add_argument("--sheets-endpoint", metavar="URL", default=os.environ.get("VORHOELLE_SHEETS_ENDPOINT"),
                        help="another Sheets API endpoint (tests, proxies; env VORHOELLE_SHEETS_ENDPOINT)")
    parser.set_defaults(func=run)


def _filters(args: argparse.Namespace, states: list[str]) -> Any:
    from bot.tracker.dates import parse_date
    from bot.tracker.table import Filters

    unknown = [s for s in args.state if s not in states]
    if unknown:
        raise ValueError(f"unknown state {', '.join(unknown)}; known states: {', '.join(states)}")
    return Filters(
        states=tuple(args.state),
        providers=tuple(args.provider),
        since=parse_date(args.since) if args.since else None,
        until=parse_date(args.until) if args.until else None,
    )


def _write(target: str, content: str | bytes, *, encoding: str = "utf-8") -> None:
    if target == "-":
        if isinstance(content, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    data = content if isinstance(content, bytes) else content.encode(encoding)
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"wrote {target}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from bot.cli.stage import EXIT_FAILED, EXIT_INVALID
    from bot.gitlab_access import GitLabAccess, GitLabError
    from datetime import datetime, timezone

    from bot.tracker.calendar import upcoming_calendar
    from bot.tracker.export import read_applications
    from bot.tracker.report import build_dashboard, to_json
    from bot.tracker.sheets import SheetsError, SheetsTarget, write_table
    from bot.tracker.site import write_site
    from bot.tracker.table import csv_text, table_values

    if not (args.csv or args.json or args.site or args.ics or args.sheets):
        print("vorhoelle export: say what to write: --csv, --json, --site, --ics and/or --sheets", file=sys.stderr)
        return EXIT_INVALID
    settings = command_settings(args)
    workflow = settings.workflow
    try:
        filters = _filters(args, list(workflow.states))
        gitlab = GitLabAccess.from_settings(settings)
    except (ValueError, GitLabError) as error:
        print(f"vorhoelle export: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        apps = read_applications(gitlab, workflow, filters)
        dashboard = build_dashboard(apps, list(workflow.states), gitlab.project.path, filters.described())
    except GitLabError as error:
        print(f"vorhoelle export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{len(apps)} applications from {gitlab.project.path}", file=sys.stderr)
    try:
        if args.csv:
            # With a byte-order mark, Excel opens UTF-8 as UTF-8 (umlauts intact).
            _write(args.csv, csv_text(apps), encoding="utf-8-sig")
        if args.json:
            _write(args.json, to_json(dashboard))
        calendar = upcoming_calendar(apps, datetime.now(timezone.utc)) if args.ics or args.site else b""
        if args.ics:
            _write(args.ics, calendar)
        if args.site:
            print(f"wrote {write_site(Path(args.site), dashboard, workflow)}", file=sys.stderr)
            _write(str(Path(args.site) / "interviews.ics"), calendar)   # beside the dashboard, to subscribe to
    except OSError as error:
        print(f"vorhoelle export: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    if args.sheets:
        target = SheetsTarget(
            spreadsheet_id=args.sheets, range=args.sheets_range, value_input=args.sheets_input,
            token_file=args.sheets_token, service_account_file=args.sheets_service_account,
            endpoint=args.sheets_endpoint,
        )
        try:
            answer = write_table(target, table_values(apps, guard_formulas=args.sheets_input != "RAW"))
        except SheetsError as error:
            print(f"vorhoelle export: {error}", file=sys.stderr)
            return EXIT_FAILED
        cleared = f", cleared {answer['clearedRange']}" if "clearedRange" in answer else ""
        print(f"wrote {answer.get('updatedCells', 0)} cells to {answer.get('updatedRange', args.sheets)}{cleared}",
              file=sys.stderr)
    return 0
