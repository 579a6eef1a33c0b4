"""`vorhoelle status`: the webhook, the last catch-up, owed notifications and matches per state."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the webhook, the last catch-up, owed notifications and matches per state",
        description=(
            "Ask GitLab whether the project webhook is installed and executable, how many job "
            "matches are in each state, and which issues still owe a notification; read the "
            "catch-up's watermark and the full reconcile's progress from the bot's status issue; "
            "ask the running bot (--url) when it last finished a catch-up pass (without one: the "
            "last pass the status issue recorded)."
        ),
    )
    parser.add_argument("--url", metavar="BOT_URL",
                        help="the running bot, e.g. http://127.0.0.1:8080 (default: public_url); its "
                             "/health/ready details are asked with api_token, /metrics with server.metrics_token")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.config.settings import load_settings
    from bot.status import gather, render, trouble

    settings = load_settings(args.config)
    try:
        gitlab = GitLabAccess.from_settings(settings, retries=0, timeout=10)  # a person waits: fail fast
        status = gather(settings, gitlab, args.url or settings.public_url)
    except GitLabError as error:
        print(f"vorhoelle status: {trouble(settings, error)}", file=sys.stderr)
        return 1
    print(json.dumps(status.as_dict(), indent=2) if args.json else render(status))
    return 0
