"""`vorhoelle remind`: send every reminder due now (bot/followup), once, and exit.

For CI's no-server mode (the scheduled pipeline); a served bot runs the same sweep on its timer.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "remind",
        help="send the reminders due now (review, deadlines, no answer, interviews, /snooze, /remind)",
        description=(
            "Find the matches owed a reminder through GitLab's filters, write each reminder as a note "
            "and deliver it on the notification channels (notify.events.reminder); move matches sent "
            "without an answer for lifecycle.no_reply_days to no-reply. Prints one line per reminder. "
            "A reminder is recorded in GitLab, so running this again sends nothing twice. Nothing is "
            "sent during notify.quiet_hours. Exits 1 when an issue failed."
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="only list what would be sent; write nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.followup.sweep import sweep
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime

    settings = command_settings(args)
    if not settings.follow_up.enabled:
        print("follow_up.enabled is false: no reminders")
        return 0
    try:
        runtime = build_runtime(settings)
        report = sweep(runtime, dry_run=args.dry_run)
    except GitLabError as error:
        print(f"vorhoelle remind: {error}", file=sys.stderr)
        return 1
    prefix = "would send " if args.dry_run and report.reminders else ""
    for line in report.lines():
        print(f"{prefix}{line}")
    if report.failed:
        print(f"vorhoelle remind: issues {report.failed} failed (see the log)", file=sys.stderr)
    return 1 if report.failed else 0
