"""`vorhoelle approve|reject|send|reopen ISSUE`: act on a match from a terminal.

The action goes through the same converge as everything else, as an API action recorded
"via the API" with the caller's name, so the workflow's rules and the issue's history apply.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from typing import Any

from bot.cli.common import command_settings


ACTIONS = {
    "approve": "approve the match",
    "reject": "reject the match",
    "send": "record that the application was sent",
    "reopen": "put the match back up for review",
}


def issue_number(text: str) -> int:
    """`12`, `#12` or an issue URL ending in `/issues/12`."""
    tail = text.rstrip("/").rsplit("/", 1)[-1].lstrip("#")
    if not tail.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an issue number (12, #12 or an issue URL)")
    return int(tail)


def register(subparsers: argparse._SubParsersAction) -> None:
    for action, summary in ACTIONS.items():
        parser = subparsers.add_parser(
            action,
            help=summary,
            description=(
                f"{summary.capitalize()}, as an API action: the workflow's transition table "
                "applies, and the issue gets a history note naming you. Exits 1 when refused."
            ),
        )
        parser.add_argument("issue", type=issue_number, metavar="ISSUE", help="issue number (12, #12 or its URL)")
        parser.add_argument("--reason", help="why (shown in the history note)")
        parser.add_argument("--as", dest="actor", metavar="NAME", help="who acts (default: your login name)")
        parser.set_defaults(func=run, action=action)


def run(args: argparse.Namespace) -> int:
    from bot.converge import ApiAction, converge_issue
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime

    settings = command_settings(args)
    action = ApiAction(
        request_id=f"cli-{uuid.uuid4().hex}",
        action=args.action,
        actor=args.actor or f"{getpass.getuser()} (CLI)",
        reason=args.reason,
    )
    try:
        result = converge_issue(build_runtime(settings), args.issue, api_actions=[action])
    except GitLabError as error:
        print(f"vorhoelle {args.action}: {error}", file=sys.stderr)
        return 1
    reply = result.outcome_of(f"api:{action.request_id}")
    if reply is None:
        print(f"#{args.issue}: {result.skipped or 'nothing done'}", file=sys.stderr)
        return 1
    for outcome in reply.outcomes:
        if outcome.kind == "transition":
            print(f"#{args.issue}: {outcome.from_state} → {outcome.to_state}")
        else:
            print(f"#{args.issue}: refused: {refusal_text(outcome)}", file=sys.stderr)
    return 0 if reply.kind == "transition" else 1


def refusal_text(outcome: Any) -> str:
    """A refused API action in one line (the issue's note says it at length)."""
    if outcome.why == "already":
        return f"the match is already {outcome.to_state}"
    if outcome.why == "unknown_state":
        return f"this workflow has no state {outcome.to_state}"
    onward = f"; from {outcome.from_state} it can go to {', '.join(outcome.allowed)}" if outcome.allowed else ""
    return f"the workflow has no step {outcome.from_state} → {outcome.to_state}{onward}"
