"""`vorhoelle selftest`: prove on your own GitLab that it behaves as the bot assumes."""

from __future__ import annotations

import argparse
import json
import os
import sys

REVIEWER_TOKEN_ENV = "VORHOELLE_SELFTEST_REVIEWER_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "selftest",
        help="check, on a scratch issue, each GitLab behaviour the bot relies on",
        description=(
            "Run once against your GitLab (and the running bot). In the bot's project it creates a "
            "scratch issue and two scratch labels, checks the token's scopes and the bot's role, "
            "label create/update, an issue with labels, label events with their user, a comment "
            "of only /approve never saved and /reject kept verbatim, quick actions removed, "
            "internal notes, award emoji, to-dos on assignment and mention (with --reviewer-token), "
            "the project hook delivering GitLab's test event to the bot at public_url (asked "
            "through the bot's API, with api_token) and the repository files API; then removes "
            "what it made (an issue it may not delete is closed). One line per check: ✓ fine, "
            "! differs but the bot copes (and how), ✗ the bot needs it, - not checked (and why). "
            "Exit status 1 on any ✗."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the checks as one JSON document")
    parser.add_argument(
        "--reviewer-token", metavar="TOKEN", default=os.environ.get(REVIEWER_TOKEN_ENV),
        help=f"a second person's token (scope api, member of the project) to check their to-dos "
             f"(default: ${REVIEWER_TOKEN_ENV}); without it the to-do check is skipped",
    )
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="YAML settings file (default: $VORHOELLE_CONFIG)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import httpx

    from bot.cli.common import command_settings
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.selftest import run_selftest

    settings = command_settings(args)
    try:
        gitlab = GitLabAccess.from_settings(settings, retries=1, timeout=15)
    except GitLabError as problem:
        print(f"vorhoelle selftest: {problem.message}", file=sys.stderr)
        return 2
    url, project = settings.gitlab_url, settings.project   # set: from_settings checked them
    reviewer = (GitLabAccess(url, args.reviewer_token, project, retries=1, timeout=15)
                if args.reviewer_token and url and project else None)
    bot_api = None
    if settings.public_url and settings.api_token:
        bot_api = httpx.Client(base_url=settings.public_url.rstrip("/"), timeout=10,
                               headers={"Authorization": f"Bearer {settings.api_token.get_secret_value()}"})
    try:
        checks = run_selftest(settings, gitlab, reviewer=reviewer, bot_api=bot_api)
    finally:
        if bot_api is not None:
            bot_api.close()
    failed = [c for c in checks if c.level == "error"]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        for check in checks:
            print(check)
        print(f"{len(failed)} needed behaviour{'s' if len(failed) != 1 else ''} missing" if failed
              else "this GitLab behaves as the bot needs")
    return 1 if failed else 0
