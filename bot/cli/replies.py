"""`vorhoelle replies`: read the mailbox once, record each answer on its application, and exit.

For the scheduled pipeline (the served bot does the same on its timer). `--dry-run` lists what
would be recorded, `--unmatched` the mail no rule could place, and `attach <message-id> <iid>`
records one such mail on the issue a person chose.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import command_settings

if TYPE_CHECKING:
    from bot.replies.run import Seen


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replies",
        help="read the mailbox and record answers on their applications",
        description=(
            "Read the mail of the last replies.look_back_days (replies.transport: imap or gmail), "
            "match each to its open application (the thread of the mail the bot sent, the contact "
            "address, or the company's domain with the job title) and record it on the issue. "
            "Mail recorded before is skipped: GitLab remembers it. Exits 1 when the mailbox "
            "cannot be read."
        ),
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--dry-run", action="store_true", help="list what would be recorded; write nothing")
    shown.add_argument("--unmatched", action="store_true",
                       help="list the mail no rule could place (sender, date, subject); write nothing")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    attach = actions.add_parser("attach", help="record one mail on the issue you name",
                                description="Record the mail with this Message-ID on issue IID, as an answer.")
    attach.add_argument("message_id", metavar="MESSAGE-ID", help="the mail's Message-ID, e.g. <abc@example.com>")
    attach.add_argument("iid", metavar="IID", type=int, help="the issue's number")
    parser.set_defaults(func=run)


def _line(seen: "Seen") -> str:
    """One mail: what became of it, where, when, from whom, about what (repr: no control characters)."""
    mail = seen.mail
    where = f"#{seen.iid} ({seen.how})" if seen.iid else "-"
    kind = f" [{mail.automatic}]" if mail.automatic else ""
    return f"  {seen.status:<12} {where:<16} {mail.at:%Y-%m-%d %H:%M} {mail.sender}{kind}: {mail.subject!r}  {mail.message_id}"


def run(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabError
    from bot.replies.run import attach, run_pass
    from bot.replies.source import MailboxError, open_mailbox
    from bot.runtime import build_runtime

    settings = command_settings(args)
    try:
        mailbox = open_mailbox(settings)
        runtime = build_runtime(settings)
        if args.action == "attach":
            seen = attach(runtime, mailbox, args.message_id, args.iid)
            print(_line(seen))
            return 0
        report = run_pass(runtime, mailbox, dry_run=args.dry_run or args.unmatched)
    except (MailboxError, GitLabError) as error:
        print(f"vorhoelle replies: {error}", file=sys.stderr)
        return 1
    shown = report.of("unmatched") if args.unmatched else report.seen
    for seen in shown:
        print(_line(seen))
    counts = {status: len(report.of(status)) for status in
              ("recorded", "would_record", "already", "unmatched", "own")}
    print(", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n) or "no new mail")
    return 0
