"""`vorhoelle status`: what the bot is doing, at a glance, from what GitLab and the bot say.

- the webhook: is it installed, which events, and has GitLab disabled it after failures (only a
  maintainer may list hooks: for a developer bot it is "not visible");
- the last catch-up pass: asked from the running bot (`/health/ready`, else `/metrics`) when its
  URL is given, otherwise unknown (the bot keeps no state anywhere else);
- notifications owed: issues carrying `notify.owed_label`, which the dispatcher keeps on an
  issue while its markers show a message not yet delivered;
- matches per state: label counts from the issues API's `x-total` (one small request each).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.config.settings import Settings
from bot.gitlab_access import GitLabError
from bot.hook_admin import WANTED_EVENTS
from bot.seams import GitLab

log = logging.getLogger(__name__)

LAST_CATCH_UP_METRIC = "vorhoelle_catch_up_last_success_timestamp_seconds"


@dataclass
class Status:
    project: str
    hooks: list[dict[str, Any]] | None = field(default_factory=list)   # None: not visible to the bot
    last_catch_up: str = "unknown"
    owed_issues: list[int] = field(default_factory=list)
    states: dict[str, int | None] = field(default_factory=dict)
    total: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def hook_summary(hook: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": hook.get("id"),
        "url": hook.get("url"),
        "missing_events": [name.removesuffix("_events") for name in WANTED_EVENTS if not hook.get(name)],
        "state": hook.get("alert_status", "executable"),
        "disabled_until": hook.get("disabled_until"),
    }


def _bearer(token: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}


def last_catch_up(bot_url: str | None, settings: Settings | None = None, timeout: float = 5) -> str:
    """When the running bot last finished a catch-up pass, as it says itself: `/health/ready`
    tells it to the API token (`settings.api_token`), `/metrics` to anyone or to the metrics token."""
    if not bot_url:
        return "unknown (give --url of the running bot)"
    base = bot_url.rstrip("/")
    api_token = settings.api_token if settings else None
    metrics_token = settings.server.metrics_token if settings else None
    try:
        ready = httpx.get(f"{base}/health/ready", timeout=timeout, headers=_bearer(api_token))
        if ready.status_code == 200 and "catch_up" in (ready.json() or {}):
            catch_up = ready.json().get("catch_up") or {}
            return catch_up.get("last_success") or "none yet"
        text = httpx.get(f"{base}/metrics", timeout=timeout, headers=_bearer(metrics_token)).raise_for_status().text
    except (httpx.HTTPError, ValueError) as failure:
        return f"unknown (the bot at {base} did not answer: {failure})"
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == LAST_CATCH_UP_METRIC and sample.value > 0:
                return datetime.fromtimestamp(sample.value, timezone.utc).isoformat(timespec="seconds")
    return "none yet"


def gather(settings: Settings, gitlab: GitLab, bot_url: str | None = None) -> Status:
    workflow = settings.workflow
    status = Status(project=gitlab.project.path)
    try:
        status.hooks = [hook_summary(hook) for hook in gitlab.hooks()]
    except GitLabError as error:
        if error.status != 403:
            raise
        status.hooks = None
    status.last_catch_up = last_catch_up(bot_url, settings)
    status.owed_issues = sorted(issue["iid"] for issue in gitlab.iter_issues(labels=[settings.notify.owed_label]))
    for name, state in workflow.states.items():
        _, totals = gitlab.issues_page(labels=[workflow.marker_label, state.label], per_page=1)
        status.states[name] = totals["total"]
    _, totals = gitlab.issues_page(labels=[workflow.marker_label], per_page=1)
    status.total = totals["total"]
    return status


def render(status: Status) -> str:
    lines = [f"project: {status.project}"]
    if status.hooks is None:
        lines.append("webhook: not visible to the bot (listing a project's hooks needs the maintainer role)")
    elif not status.hooks:
        lines.append("webhook: none installed (run `vorhoelle hook install`); only catch-up sees changes")
    for hook in status.hooks or ():
        until = f" until {hook['disabled_until']}" if hook["disabled_until"] else ""
        missing = hook["missing_events"]
        events = f"missing events: {', '.join(missing)}" if missing else "all events the bot needs"
        lines.append(f"webhook #{hook['id']}: {hook['url']} — {hook['state']}{until} ({events})")
    lines.append(f"last catch-up: {status.last_catch_up}")
    owed = status.owed_issues
    lines.append(f"notifications owed: {len(owed)} issue{'s' if len(owed) != 1 else ''}"
                 + (f" ({', '.join(f'#{iid}' for iid in owed)})" if owed else ""))
    counts = ", ".join(f"{name} {'?' if n is None else n}" for name, n in status.states.items())
    lines.append(f"matches: {'?' if status.total is None else status.total} ({counts})")
    return "\n".join(lines)
