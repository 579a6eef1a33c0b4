"""`vorhoelle approve|reject|send|reopen|reply|interview|offer|hired|decline|turned-down|withdraw
ISSUE`: act on a match from a terminal; `vorhoelle timeline ISSUE` shows what happened to it.

The action goes through the same converge as everything else, as an API action recorded
"via the API" with the caller's name, so the workflow's rules and the issue's history apply.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from bot.cli.common import command_settings


@dataclass(frozen=True)
class CliAction:
    summary: str
    text: str | None = None  # the positional argument after ISSUE, stored as the reason


ACTIONS = {
    "approve": CliAction("approve the match"),
    "reject": CliAction("reject the match"),
    "send": CliAction("record that the application was sent"),
    "reopen": CliAction("put the match back up for review"),
    "reply": CliAction("record an answer from the employer (ends no-reply)", "SUMMARY"),
    "interview": CliAction("record an interview round (the issue's due date becomes the next round)", "WHEN"),
    "offer": CliAction("record an offer", "TERMS"),
    "hired": CliAction("the offer was accepted (closes the issue)"),
    "decline": CliAction("you said no to them (closes the issue)"),
    "turned-down": CliAction("the employer said no (closes the issue)"),
    "withdraw": CliAction("you withdrew the application (closes the issue)"),
}
_TEXT_HELP = {
    "SUMMARY": "what they answered",
    "WHEN": "when: 2026-12-10 14:00, 10.12. 14:00, tomorrow 9:30 (workflow.lifecycle.timezone)",
    "TERMS": "the offer's terms: rate, start, duration",
}


def issue_number(text: str) -> int:
    """`12`, `#12` or an issue URL ending in `/issues/12`."""
    tail = text.rstrip("/").rsplit("/", 1)[-1].lstrip("#")
    if not tail.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an issue number (12, #12 or an issue URL)")
    return int(tail)


def register(subparsers: argparse._SubParsersAction) -> None:
    for action, spec in ACTIONS.items():
        parser = subparsers.add_parser(
            action,
            help=spec.summary,
            description=(
                f"{spec.summary[0].upper()}{spec.summary[1:]}, as an API action: the workflow's transition "
                "table applies, and the issue gets a history note naming you. Exits 1 when refused."
            ),
        )
        parser.add_argument("issue", type=issue_number, metavar="ISSUE", help="issue number (12, #12 or its URL)")
        if spec.text:
            parser.add_argument("text", metavar=spec.text, help=_TEXT_HELP[spec.text])
        if action == "interview":
            parser.add_argument("--with", dest="with_", metavar="WHO", help="with whom")
            parser.add_argument("--note", dest="reason", metavar="NOTE", help="a note: video call, on site, ...")
        elif not spec.text:
            parser.add_argument("--reason", help="why (shown in the history note)")
        parser.add_argument("--as", dest="actor", metavar="NAME", help="who acts (default: your login name)")
        parser.set_defaults(func=run, action=action)
    timeline = subparsers.add_parser(
        "timeline",
        help="what happened to one application, oldest first",
        description="Print the application's timeline as GitLab records it: staged, approved, sent, "
        "replies, interview rounds, offer, outcome; who, when and how.",
    )
    timeline.add_argument("issue", type=issue_number, metavar="ISSUE", help="issue number (12, #12 or its URL)")
    timeline.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    timeline.set_defaults(func=run_timeline)


def run(args: argparse.Namespace) -> int:
    from bot.converge import ApiAction, converge_issue
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime

    settings = command_settings(args)
    text = getattr(args, "text", None)
    action = ApiAction(
        request_id=f"cli-{uuid.uuid4().hex}",
        action=args.action,
        actor=args.actor or f"{getpass.getuser()} (CLI)",
        reason=getattr(args, "reason", None) if args.action == "interview" or not text else text,
        when=text if args.action == "interview" else None,
        with_=getattr(args, "with_", None),
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
            print(f"#{args.issue}: {outcome_text(outcome)}")
        else:
            print(f"#{args.issue}: refused: {refusal_text(outcome)}", file=sys.stderr)
    return 0 if reply.kind == "transition" else 1


def outcome_text(outcome: Any) -> str:
    """`sent → interview (round 1 on 2026-12-10T14:00:00+01:00)`, `sent (reply recorded)`."""
    happened = outcome.happened or {}
    moved = f"{outcome.from_state} → {outcome.to_state}" if outcome.from_state != outcome.to_state else outcome.to_state
    if happened.get("happened") == "round":
        return f"{moved} (round {happened.get('round')} on {happened.get('when')})"
    if happened.get("happened"):
        return f"{moved} ({happened['happened']} recorded)"
    return moved


def refusal_text(outcome: Any) -> str:
    """A refused API action in one line (the issue's note says it at length)."""
    if outcome.why == "already":
        return f"the match is already {outcome.to_state}"
    if outcome.why == "unknown_state":
        return f"this workflow has no state {outcome.to_state}"
    if outcome.why in ("bad_time", "incomplete"):
        return str(outcome.text)
    if outcome.why == "not_recorded":
        return f"that is recorded while the match is {', '.join(outcome.allowed)}; it is {outcome.from_state}"
    onward = f"; from {outcome.from_state} it can go to {', '.join(outcome.allowed)}" if outcome.allowed else ""
    return f"the workflow has no step {outcome.from_state} → {outcome.to_state}{onward}"


def run_timeline(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabError
    from bot.lifecycle.timeline import read_timeline
    from bot.runtime import build_runtime
    from bot.snapshot import read_snapshot
    from bot.staging.read import get_staged

    runtime = build_runtime(command_settings(args))
    try:
        match = get_staged(runtime, args.issue)
        if match is None:
            print(f"vorhoelle timeline: #{args.issue} is not a job match", file=sys.stderr)
            return 1
        timeline = read_timeline(read_snapshot(runtime.gitlab, args.issue), match.state)
    except GitLabError as error:
        print(f"vorhoelle timeline: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(timeline.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))
        return 0
    print(f"#{timeline.iid}: {timeline.state}")
    for event in timeline.events:
        detail = " ".join(filter(None, [
            f"round {event.round} on {event.when:%Y-%m-%d %H:%M %Z}" if event.when and event.round else "",
            f"with {event.with_}" if event.with_ else "",
            event.text or "",
        ]))
        who = f"by {event.who}" if event.who else ""
        print(f"{event.at:%Y-%m-%d %H:%M}  {event.kind:<12} {who:<24} via {event.via:<8} {detail}".rstrip())
    return 0
