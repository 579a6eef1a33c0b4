"""`vorhoelle reconcile`: converge every open job-match issue (and closed ones updated since the
last full reconcile) now, paced, continuing one that was interrupted."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reconcile",
        help="converge every open job-match issue now (a full reconcile), paced and resumable",
        description=(
            "Converge every open job-match issue, and every closed one updated since the last full "
            "reconcile, in creation order, at most catch_up.max_calls_per_minute GitLab calls a "
            "minute. Progress is recorded in the bot's status issue, so an interrupted run "
            "continues where it stopped. The bot does this by itself every "
            "catch_up.full_every_hours. Exits 1 when an issue could not be converged."
        ),
    )
    parser.add_argument("--dry-run", action="store_true",
                        help="list the issues it would converge; write nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.catch_up import CatchUp
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime

    settings = command_settings(args)
    try:
        runtime = build_runtime(settings)
        catch_up = CatchUp(runtime, say=lambda line: print(f"  {line}", flush=True))
        return reconcile_now(runtime, catch_up, dry_run=args.dry_run)
    except GitLabError as error:
        print(f"vorhoelle reconcile: {error}", file=sys.stderr)
        return 1


def reconcile_now(runtime: Any, catch_up: Any, *, dry_run: bool, minutes: float | None = None) -> int:
    """Run (or continue) a full reconcile in this process, printing a line per issue; after
    `minutes` it records how far it got and stops (the next run continues)."""
    import threading

    from bot.cli.catch_up import progress_line
    from bot.reconcile import Reconciler
    from bot.runtime import converge

    def line(iid: int, outcome: object) -> None:
        if dry_run:
            print(f"  #{iid}: would converge", flush=True)
        else:
            progress_line(iid, outcome)

    limit = runtime.settings.catch_up.max_calls_per_minute
    print(f"full reconcile of {runtime.settings.project}{' (dry run: nothing is written)' if dry_run else ''}, "
          f"at most {limit} GitLab calls a minute")
    reconciler = Reconciler(runtime, catch_up)
    budget = threading.Timer(minutes * 60, reconciler.stop) if minutes else None
    if budget:
        budget.daemon = True
        budget.start()
    try:
        report = reconciler.run(lambda iid: converge(runtime, iid), dry_run=dry_run, progress=line)
    finally:
        if budget:
            budget.cancel()
    print(report.summary())
    return 1 if report.failed else 0
