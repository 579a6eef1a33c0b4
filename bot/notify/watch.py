"""The bot's own health, told to the admin channel: once when trouble starts, once when it ends.

Each kind of trouble is an incident with a name: `webhook` (GitLab disabled the bot's hook and
drops events meanwhile), `catch-up` (passes that cannot list or converge issues) and
`notifications` (delivery rounds that cannot read or write GitLab). Failures are counted in a row;
the `report_after`-th opens the incident and is reported, later ones are only logged, and the
first success after that closes it with a "works again" report. A loop that runs every 30 seconds
therefore sends two messages per outage, not one per round.

The webhook is checked on the catch-up loop's schedule with one hook listing. Listing hooks needs
the maintainer role; a bot with less is told so once in the log (info) and the check stays off.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from bot.gitlab_access import GitLabError

log = logging.getLogger(__name__)

WEBHOOK, CATCH_UP, NOTIFICATIONS = "webhook", "catch-up", "notifications"
WEBHOOK_PATH = "/webhook"


@dataclass
class Incident:
    failures: int = 0
    open: bool = False


def bot_hooks(hooks: list[dict[str, Any]], public_url: str | None) -> list[dict[str, Any]]:
    """The project's hooks that feed this bot: the one at `public_url`/webhook, or without a
    public URL every hook whose URL ends with /webhook."""
    if public_url:
        wanted = public_url.rstrip("/") + WEBHOOK_PATH
        return [hook for hook in hooks if hook.get("url") == wanted]
    return [hook for hook in hooks if str(hook.get("url", "")).rstrip("/").endswith(WEBHOOK_PATH)]


def disabled_text(hook: dict[str, Any]) -> str:
    status = hook.get("alert_status")
    until = f" until {hook['disabled_until']}" if status == "temporarily_disabled" and hook.get("disabled_until") else ""
    return f"{hook.get('url')} is {status}{until}"


class HealthWatch:
    def __init__(self, report: Callable[..., None], *, report_after: Callable[[], int]):
        self.report = report
        self.report_after = report_after   # read at each failure: a settings reload changes it
        self._incidents: dict[str, Incident] = {}
        self._lock = threading.Lock()
        self._hooks_hidden = False

    def failed(self, name: str, problem: str, *, at_once: bool = False) -> None:
        """Count a failure of `name`; report `problem` when this one opens the incident."""
        with self._lock:
            incident = self._incidents.setdefault(name, Incident())
            incident.failures += 1
            opens = not incident.open and (at_once or incident.failures >= self.report_after())
            incident.open = incident.open or opens
            failures = incident.failures
        log.warning("%s failing (%d in a row): %s", name, failures, problem)
        if opens:
            in_a_row = f" ({failures} times in a row)" if failures > 1 else ""
            self.report(f"{problem}{in_a_row}")

    def ok(self, name: str, recovery: str) -> None:
        """`name` worked: close its incident, reporting `recovery` if one was open."""
        with self._lock:
            incident = self._incidents.pop(name, None)
        if incident is not None and incident.open:
            self.report(recovery, trouble=False)

    def after_catch_up(self, gitlab: Any, public_url: str | None, error: str | None) -> None:
        """A catch-up pass ended (with `error`, or None): count it, then check the webhook."""
        if error:
            self.failed(CATCH_UP, f"Catch-up keeps failing: {error}")
        else:
            self.ok(CATCH_UP, "Catch-up works again.")
        self.check_webhook(gitlab, public_url)

    def check_webhook(self, gitlab: Any, public_url: str | None) -> None:
        """Ask GitLab whether it has disabled the bot's hook (4 failed deliveries in a row)."""
        if self._hooks_hidden:
            return
        try:
            hooks = bot_hooks(gitlab.hooks(), public_url)
        except GitLabError as exc:
            if exc.status in (401, 403, 404):
                self._hooks_hidden = True
                # Said once, as information: a developer bot is a normal set-up (`config check`
                # explains the role), it only means this one check is off.
                log.info("cannot list the project's hooks (%s): the webhook's health is not watched; "
                         "give the bot the maintainer role to watch it", exc)
            else:
                log.warning("cannot check the webhook now: %s", exc)
            return
        disabled = [hook for hook in hooks if hook.get("alert_status") not in (None, "executable")]
        if disabled:
            self.failed(WEBHOOK, "GitLab has disabled the bot's webhook: "
                        + "; ".join(disabled_text(hook) for hook in disabled)
                        + ". Events are dropped meanwhile; catch-up recovers them.", at_once=True)
        elif hooks:
            self.ok(WEBHOOK, "The bot's webhook is enabled again: "
                    + ", ".join(str(hook.get("url")) for hook in hooks) + ".")
