"""`vorhoelle hook install|status`: the project webhook that feeds the bot.

The bot's token needs the maintainer role to manage hooks (GitLab's rule).
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hook",
        help="install the project webhook, or show whether GitLab has disabled it",
        description="Manage the GitLab project webhook that sends events to `vorhoelle serve`.",
    )
    actions = parser.add_subparsers(dest="hook_action", metavar="ACTION", required=True)
    install = actions.add_parser(
        "install",
        help="create or update (found by URL) the webhook with the secret token and the bot's events",
        description=(
            "Register URL as a project webhook with webhook_secret as its secret token and exactly "
            "these events: issues, comments, confidential issues and comments, emoji, push. An "
            "existing hook with the same URL is updated (other events switched off)."
        ),
    )
    install.add_argument("--url", help="where GitLab reaches the bot (default: public_url + /webhook)")
    install.set_defaults(func=run_install)
    status = actions.add_parser(
        "status",
        help="show whether GitLab has disabled the hook, and its recent failed deliveries",
        description=(
            "For each project hook (or the one for --url): alert_status (executable, "
            "temporarily_disabled, disabled), disabled_until, subscribed events and the recent "
            "failed deliveries. Exits 1 when the hook is missing or not executable."
        ),
    )
    status.add_argument("--url", help="only the hook with this URL (default: public_url + /webhook, if set)")
    status.set_defaults(func=run_status)


def _setup(args: argparse.Namespace):
    from bot.gitlab_access import GitLabAccess

    settings = command_settings(args)
    default_url = f"{settings.public_url.rstrip('/')}/webhook" if settings.public_url else None
    return settings, GitLabAccess.from_settings(settings), args.url or default_url


def run_install(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabError
    from bot.hook_admin import install_hook

    settings, gitlab, url = _setup(args)
    if not url:
        print("vorhoelle hook install: give --url or set public_url (VORHOELLE_PUBLIC_URL)", file=sys.stderr)
        return 2
    if settings.webhook_secret is None:
        print("vorhoelle hook install: set webhook_secret (VORHOELLE_WEBHOOK_SECRET) first; "
              "the bot refuses deliveries without it", file=sys.stderr)
        return 2
    try:
        hook, created = install_hook(gitlab, url, settings.webhook_secret.get_secret_value())
    except GitLabError as error:
        hint = " (managing hooks needs the maintainer role)" if error.status == 403 else ""
        print(f"vorhoelle hook install: {error}{hint}", file=sys.stderr)
        return 1
    print(f"{'created' if created else 'updated'} hook {hook['id']} on {settings.project}: {url}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabError
    from bot.hook_admin import WANTED_EVENTS, hook_status

    settings, gitlab, url = _setup(args)
    try:
        found = hook_status(gitlab, url)
    except GitLabError as error:
        print(f"vorhoelle hook status: {error}", file=sys.stderr)
        return 1
    if not found:
        print(f"no webhook{f' for {url}' if url else ''} on {settings.project}; run `vorhoelle hook install`")
        return 1
    for status in found:
        hook = status.hook
        until = f" until {hook['disabled_until']}" if hook.get("disabled_until") else ""
        print(f"hook {hook['id']}: {hook.get('url')}")
        print(f"  state:  {status.alert_status}{until}")
        print(f"  events: {', '.join(n.removesuffix('_events') for n in WANTED_EVENTS if hook.get(n))}"
              + (f" (missing: {', '.join(status.missing_events)})" if status.missing_events else ""))
        print(f"  recent failed deliveries: {len(status.failures)}")
        for event in status.failures:
            print(f"    {event.get('created_at')}  {event.get('trigger')}  -> {event.get('response_status')}")
    return 0 if all(status.healthy for status in found) else 1
