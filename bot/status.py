"""`vorhoelle status`: what the bot is doing, at a glance, from what GitLab and the bot say.

- the webhook: is it installed, which events, and has GitLab disabled it after failures (only a
  maintainer may list hooks: for a developer bot it is "not visible");
- the last catch-up pass: asked from the running bot (`/health/ready`, else `/metrics`) when its
  URL is given; the watermark and the full reconcile's progress from the bot's status issue;
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

from bot.gitlab_access import GitLabError
from bot.hook_admin import WANTED_EVENTS
from bot.config.settings import Settings
from bot.status_issue import Health, StatusIssue

log = logging.getLogger(__name__)

LAST_CATCH_UP_METRIC = "vorhoelle_catch_up_last_success_timestamp_seconds"


@dataclass
class Status:
    project: str
    hooks: list[dict[str, Any]] | None = field(default_factory=list)   # None: not visible to the bot
    last_catch_up: str = "unknown"
    catch_up: list[str] = field(default_factory=list)   # the watermark and the full reconcile
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


def last_catch_up(bot_url: str, settings: Settings | None = None, timeout: float = 5) -> str:
    """When the running bot last finished a catch-up pass, as it says itself: `/health/ready`
    tells it to the API token (`settings.api_token`), `/metrics` to anyone or to the metrics token."""
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


def health(settings: Settings, gitlab: Any, notes: list[str] | None = None) -> Health:
    """The webhook's state and the issues owing notifications: what the status note shows too."""
    found = Health(notes=list(notes or ()))
    try:
        found.hooks = [hook_summary(hook) for hook in gitlab.hooks()]
    except GitLabError as error:
        if error.status != 403:
            raise
        found.hooks = None
    found.owed_issues = sorted(issue["iid"] for issue in gitlab.iter_issues(labels=[settings.notify.owed_label]))
    return found


def recorded(settings: Settings, gitlab: Any) -> tuple[str | None, list[str]]:
    """The catch-up's record in the status issue (bot/status_issue.py): the last pass it
    recorded (None: none), and lines on the watermark and the full reconcile."""
    keeper = StatusIssue(gitlab)
    loaded = keeper.load()
    if loaded.first_run:
        return None, [f"watermark: none yet (the first pass looks back {settings.catch_up.first_window_days:g} days)"]
    if loaded.problem:
        return None, [f"watermark: cannot be read ({loaded.problem}); the next pass starts a full reconcile"]
    record, run = keeper.record, keeper.record.full_run
    full = (f"under way since {run.started.isoformat(timespec='seconds')}, {run.converged} issues converged"
            if run else f"last started {record.full_last.isoformat(timespec='seconds')}" if record.full_last else "none yet")
    due = f", next due {record.full_next.isoformat(timespec='seconds')}" if record.full_next and not run else ""
    watermark = record.watermark.isoformat(timespec="seconds") if record.watermark else "none yet"
    last = f"{record.last_pass.isoformat(timespec='seconds')} ({record.last_summary})" if record.last_pass else None
    return last, [f"watermark: {watermark} (status issue #{keeper.iid})", f"full reconcile: {full}{due}"]


def gather(settings: Settings, gitlab: Any, bot_url: str | None = None) -> Status:
    workflow = settings.workflow
    status = Status(project=gitlab.project.path)
    found = health(settings, gitlab)
    status.hooks, status.owed_issues = found.hooks, found.owed_issues
    last_pass, status.catch_up = recorded(settings, gitlab)
    status.last_catch_up = last_catch_up(bot_url, settings) if bot_url else last_pass or "none recorded yet"
    for name, state in workflow.states.items():
        _, totals = gitlab.issues_page(labels=[workflow.marker_label, state.label], per_page=1)
        status.states[name] = totals["total"]
    _, totals = gitlab.issues_page(labels=[workflow.marker_label], per_page=1)
    status.total = totals["total"]
    return status


def trouble(settings: Settings, failure: GitLabError) -> str:
    """One line saying what kept `gather` from GitLab, and what to check."""
    url = settings.gitlab_url
    if failure.status == 0:
        return f"cannot reach GitLab at {url}: {failure.message}; check gitlab_url and the network"
    if failure.status == 401:
        return f"GitLab at {url} answered 401: the token is wrong, expired or revoked"
    if failure.status in (403, 404):
        return (f"project {settings.project!r} is not visible to the bot's user at {url} ({failure.status}): "
                "check the id or path (group/project) and the bot's membership")
    return f"GitLab at {url} answered {failure.status}: {failure.message}"


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
    lines += status.catch_up
    owed = status.owed_issues
    lines.append(f"notifications owed: {len(owed)} issue{'s' if len(owed) != 1 else ''}"
                 + (f" ({', '.join(f'#{iid}' for iid in owed)})" if owed else ""))
    counts = ", ".join(f"{name} {'?' if n is None else n}" for name, n in status.states.items())
    lines.append(f"matches: {'?' if status.total is None else status.total} ({counts})")
    return "\n".join(lines)
