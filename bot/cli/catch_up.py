"""`vorhoelle catch-up`: converge every job-match issue updated in a window, once, and exit.

For a bot that was down, a hook GitLab disabled, or CI's no-server mode (a scheduled job).
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catch-up",
        help="converge every job-match issue updated since a time, then exit",
        description=(
            "Converge every issue with the marker label updated since --since (oldest change "
            "first), print one line per issue and a summary. Exits 1 when an issue could not be "
            "converged. Without --since, looks back catch_up.first_window_days."
        ),
    )
    parser.add_argument("--since", metavar="WHEN",
                        help="7d, 3h, 30m, 2w back from now, or an ISO 8601 time (2025-01-10T10:00:00Z)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.catch_up import catch_up_once, now, parse_since
    from bot.gitlab_access import GitLabError
    from bot.queue import describe
    from bot.runtime import build_runtime, converge

    settings = command_settings(args)
    try:
        since = parse_since(args.since) if args.since else now() - timedelta(days=settings.catch_up.first_window_days)
    except ValueError as error:
        print(f"vorhoelle catch-up: {error}", file=sys.stderr)
        return 2
    def progress(iid: int, outcome: object) -> None:
        failed = isinstance(outcome, Exception)
        print(f"  #{iid}: {f'FAILED: {outcome}' if failed else describe(outcome)}", flush=True)

    try:
        runtime = build_runtime(settings)
        print(f"catching up on {settings.project}: job-match issues updated since {since.isoformat(timespec='seconds')}")
        report = catch_up_once(runtime, since, lambda iid: converge(runtime, iid), progress)
    except GitLabError as error:  # listing the changed issues failed: nothing was converged
        print(f"vorhoelle catch-up: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 1 if report.failed else 0
