"""`vorhoelle catch-up`: converge every job-match issue updated since the watermark, once, and exit.

For a bot that was down, a hook GitLab disabled, or CI's no-server mode (a scheduled job). It
starts where the last pass (of any process or pipeline) recorded its watermark in the bot's status
issue, records the new one, and continues a full reconcile that is due or under way.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catch-up",
        help="converge every job-match issue updated since the last pass, then exit",
        description=(
            "Converge every issue with the marker label updated since the watermark the last pass "
            "recorded in the bot's status issue (oldest change first), print one line per issue and "
            "a summary, and record the new watermark. The first run looks back "
            "catch_up.first_window_days; --since overrides the watermark. A full reconcile that is "
            "due (catch_up.full_every_hours) or under way is continued afterwards for at most "
            "--reconcile-minutes, so a scheduled job stays inside its timeout; the next run "
            "continues it. Exits 1 when an issue could not be converged."
        ),
    )
    parser.add_argument("--since", metavar="WHEN",
                        help="7d, 3h, 30m, 2w back from now, or an ISO 8601 time (2025-01-10T10:00:00Z)")
    parser.add_argument("--reconcile-minutes", type=float, default=30, metavar="N",
                        help="continue a due full reconcile for at most N minutes (default: %(default)s; 0: not now)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.catch_up import CatchUp, one_by_one, parse_since
    from bot.cli.reconcile import reconcile_now
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime, converge

    settings = command_settings(args)
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as error:
        print(f"vorhoelle catch-up: {error}", file=sys.stderr)
        return 2
    try:
        runtime = build_runtime(settings)
        catch_up = CatchUp(runtime, say=lambda line: print(f"  {line}", flush=True))
        catch_up.load()
        start, _ = catch_up.start_of(since)
        origin = "given" if since else "the watermark" if catch_up.status.record.watermark else "the first run's window"
        print(f"catching up on {settings.project}: job-match issues updated since {start.isoformat(timespec='seconds')} ({origin})")
        report = catch_up.run_pass(one_by_one(lambda iid: converge(runtime, iid), progress_line), since)
        print(report.summary())
        watermark = catch_up.status.record.watermark
        shown = watermark.isoformat(timespec="seconds") if watermark is not None else "none"
        print(f"watermark: {shown} (status issue #{catch_up.status.iid})")
        code = 1 if report.failed else 0
        if args.reconcile_minutes > 0 and catch_up.reconcile_due():
            code = max(code, reconcile_now(runtime, catch_up, dry_run=False, minutes=args.reconcile_minutes))
    except GitLabError as error:  # listing, reading or recording failed: say so, never a traceback
        print(f"vorhoelle catch-up: {error}", file=sys.stderr)
        return 1
    return code


def progress_line(iid: int, outcome: object) -> None:
    from bot.queue import describe
    from bot.reconcile import failed

    print(f"  #{iid}: {f'FAILED: {outcome}' if failed(outcome) else describe(outcome)}", flush=True)
