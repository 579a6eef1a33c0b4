"""`vorhoelle config check|show`: is the configuration usable, and what is it in effect."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config",
        help="check the settings (and GitLab access) or show the effective settings",
        description=(
            "Settings come from config/vorhoelle.yml (defaults), the file given by --config or "
            "VORHOELLE_CONFIG, the project's .vorhoelle.yml, environment variables "
            "(VORHOELLE_GITLAB_TOKEN, VORHOELLE_STAGING__THRESHOLD=80, ...) and secret files "
            "(VORHOELLE_GITLAB_TOKEN_FILE=/run/secrets/gitlab_token), each over the one before. "
            "Rights and recipients (workflow.transitions, channels, recipients, send_application, "
            "admin_channel) are the operator's: the project's file may only make them stricter."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate every setting and check GitLab access; exit 1 on any problem",
        description=(
            "Print one line per finding (✓ fine, ! worth fixing, ✗ stops the bot), each saying "
            "where the problem is (file:line or variable) and how to fix it. Checks GitLab: the "
            "token is accepted and has scope api, the project is visible, the bot's role is at "
            "least reporter, the project's .vorhoelle.yml is valid, and for each right or recipient "
            "that file changes, whether its value or the operator's applies and why. With Slack buttons "
            "or WhatsApp replies set up: the Slack app's token and scopes, and where Twilio sends the "
            "number's messages. Exit status 1 on any ✗."
        ),
    )
    check.add_argument("--offline", action="store_true", help="check the settings only, do not contact GitLab, Slack or Twilio")
    check.set_defaults(func=run_check)
    show = actions.add_parser(
        "show",
        help="print the effective settings, secrets masked",
        description="Print the settings the bot would run with (all layers merged), every secret as **********.",
    )
    show.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    show.set_defaults(func=run_show)
    for sub in (check, show):
        sub.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                         help="YAML settings file (default: $VORHOELLE_CONFIG)")


def run_check(args: argparse.Namespace) -> int:
    from bot.config.check import run_checks

    findings = run_checks(args.config, offline=args.offline)
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if f.level == "error")
    print(f"{errors} problem{'s' if errors != 1 else ''} found" if errors else "configuration OK")
    return 1 if errors else 0


def run_show(args: argparse.Namespace) -> int:
    import yaml

    from bot.config.masking import public_view
    from bot.config.settings import load_settings

    view = public_view(load_settings(args.config))
    print(json.dumps(view, indent=2) if args.json else yaml.safe_dump(view, sort_keys=False, allow_unicode=True), end="")
    return 0
