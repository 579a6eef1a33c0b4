"""The project webhook that feeds the bot: installing it, and asking GitLab how it fares.

`install_hook` registers the bot's URL with the secret token and exactly the events the bot acts
on, or brings an existing hook with that URL back to that (a hook someone widened is narrowed
again). `hook_status` tells whether GitLab has disabled the hook — after 4 failed deliveries in a
row, for a while; after 40, for good — and shows its recent failures: while a hook is disabled,
GitLab drops events, and only catch-up recovers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.seams import GitLab

# Every event the bot reads; every other event flag of GitLab's project hook API is switched off
# so GitLab does not send it. (`repository_update_events` appears in hook answers but is not a
# project hook parameter: GitLab sends it to system hooks only.)
WANTED_EVENTS = (
    "issues_events",
    "note_events",
    "confidential_issues_events",
    "confidential_note_events",
    "emoji_events",
    "push_events",
)
UNWANTED_EVENTS = (
    "merge_requests_events",
    "tag_push_events",
    "pipeline_events",
    "job_events",
    "wiki_page_events",
    "deployment_events",
    "releases_events",
    "feature_flag_events",
    "resource_access_token_events",
)


def hook_fields(url: str, secret: str) -> dict[str, Any]:
    return {
        "url": url,
        "token": secret,
        "enable_ssl_verification": True,
        **{name: True for name in WANTED_EVENTS},
        **{name: False for name in UNWANTED_EVENTS},
    }


def install_hook(gitlab: GitLab, url: str, secret: str) -> tuple[dict[str, Any], bool]:
    """Create the hook for `url`, or update the one already there. Returns (hook, created)."""
    for hook in gitlab.hooks():
        if hook.get("url") == url:
            return gitlab.update_hook(hook["id"], **hook_fields(url, secret)), False
    return gitlab.create_hook(**hook_fields(url, secret)), True


@dataclass
class HookStatus:
    hook: dict[str, Any]
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def alert_status(self) -> str:
        return self.hook.get("alert_status") or "executable"

    @property
    def healthy(self) -> bool:
        return self.alert_status == "executable"

    @property
    def missing_events(self) -> list[str]:
        return [name for name in WANTED_EVENTS if not self.hook.get(name)]


def delivered(event: dict[str, Any]) -> bool:
    """GitLab counts any 2xx or 3xx answer as delivered."""
    try:
        status = int(event.get("response_status"))  # type: ignore[arg-type]  # None: TypeError below
    except (TypeError, ValueError):  # "internal error": no answer at all
        return False
    return 200 <= status < 400


def hook_status(gitlab: GitLab, url: str | None = None) -> list[HookStatus]:
    """Every hook of the project (or only the one for `url`) with its recent failed deliveries."""
    return [
        HookStatus(hook, [event for event in gitlab.hook_events(hook["id"]) if not delivered(event)])
        for hook in gitlab.hooks()
        if url is None or hook.get("url") == url
    ]
