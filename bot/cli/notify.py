"""`vorhoelle notify test|flush`: check the channels, deliver what is held.

`test` sends a test message on each enabled channel (or one) and prints, per channel, the
service's receipt or why it failed — exit status 1 when any failed. `flush` delivers every
message GitLab says is owed and due now (what a running bot does every 30 seconds) and prints
what it delivered, held (and why) or failed — exit status 1 when a delivery or GitLab failed. `application`
mails the application of a sent match (see bot/notify/send_application.py).
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


CHANNELS = ("console", "gitlab_todo", "slack", "email", "whatsapp")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "notify",
        help="test notification channels, deliver held messages",
        description="Notifications: Slack, e-mail, WhatsApp, GitLab to-do and the console outbox.",
    )
    actions = parser.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test",
        help="send a test message on each enabled channel",
        description=(
            "Send a test message on each enabled channel (settings.notify.channels) and print "
            "one line per channel: 'ok' with the service's receipt, or 'FAILED' and why. "
            "Exit status 1 when a channel failed."
        ),
    )
    test.add_argument("--channel", choices=CHANNELS, help="test only this channel")
    test.set_defaults(func=run_test)
    flush = actions.add_parser(
        "flush",
        help="deliver messages held back (quiet hours, a failing channel) that are due now",
        description=(
            "Find the issues labelled notify.owed_label, work out from the bot's notes what "
            "each still owes, and deliver what is due now. Prints one line per message: "
            "delivered, held (quiet hours, a resting channel, a match waiting for its cycle) or "
            "failed, with why. Safe to run at any time: nothing already recorded as delivered "
            "is sent again. Exit status 1 when a delivery or GitLab failed."
        ),
    )
    flush.set_defaults(func=run_flush)
    application = actions.add_parser(
        "application",
        help="mail the application of a sent match (draft + CV) to its contact",
        description=(
            "Mail the cover-letter draft of ISSUE, with notify.channels.email.send_application."
            "attachment, to the contact named in the match; the issue gets a preview note that "
            "becomes the receipt. Needs the match to be in the 'sent' state. Sends at most once "
            "per 'sent' transition. --dry-run prints what would be sent and writes nothing."
        ),
    )
    application.add_argument("issue", type=int, metavar="ISSUE", help="the issue's number (iid)")
    application.add_argument("--dry-run", action="store_true", help="only show what would be sent")
    application.set_defaults(func=run_application)


def _dispatcher(args: argparse.Namespace, *, need_gitlab: bool):
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.notify import build_dispatcher

    settings = command_settings(args)
    try:
        gitlab = GitLabAccess.from_settings(settings)
    except GitLabError:
        if need_gitlab:
            raise
        gitlab = None   # the channels that need no GitLab can still be tested
    return build_dispatcher(settings, gitlab)


def run_test(args: argparse.Namespace) -> int:
    outcomes = _dispatcher(args, need_gitlab=False).test(args.channel)
    for name, outcome in outcomes.items():
        print(f"{name:<12} {'ok' if outcome.ok else 'FAILED':<7} {outcome.detail}")
    return 0 if all(o.ok for o in outcomes.values()) else 1


def run_flush(args: argparse.Namespace) -> int:
    report = _dispatcher(args, need_gitlab=True).flush_due()
    if report.error:
        print(f"vorhoelle notify flush: {report.error}", file=sys.stderr)
        return 1
    if report.skipped:
        print(f"nothing delivered: {report.skipped}")
        return 0
    for what in ("delivered", "held", "failed"):
        for line in getattr(report, what):
            print(f"{what:<10} {line}")
    if not (report.delivered or report.held or report.failed):
        print("nothing owed")
    return 1 if report.failed else 0


def run_application(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabError
    from bot.notify.send_application import send_application
    from bot.snapshot import read_snapshot

    dispatcher = _dispatcher(args, need_gitlab=True)
    try:
        snapshot = read_snapshot(dispatcher.gitlab, args.issue)
        sent = [m for m in snapshot.bot_markers if m.kind == "transition" and m.data.get("to") == "sent"]
        if not sent:
            print(f"issue #{args.issue} has no recorded 'sent' transition: send the match first", file=sys.stderr)
            return 1
        result = send_application(dispatcher.settings, dispatcher.gitlab, snapshot, sent[-1].source, dry_run=args.dry_run)
    except GitLabError as error:
        print(f"vorhoelle notify application: {error}", file=sys.stderr)
        return 1
    print(f"{result.status}: {result.detail}")
    if result.application is not None and args.dry_run:
        app = result.application
        print(f"To: {app.to}\nSubject: {app.subject}\nAttachments: {', '.join(a.filename for a in app.attachments) or 'none'}\n\n{app.draft}")  # noqa: E501
    return 0 if result.status in ("sent", "already_sent", "dry_run") else 1
