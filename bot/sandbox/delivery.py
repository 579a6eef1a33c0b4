"""Webhook delivery as GitLab does it: asynchronous, unretried, and switched off when it fails.

The bot must survive the real thing, so the sandbox copies what matters: the exact headers, one
ordered queue per hook, no automatic retry, temporary disabling after 4 consecutive failures
(back-off from 1 minute doubling to 24 hours, for good after 40) with events DROPPED while
disabled, manual resend keeping the `Idempotency-Key`, and recursion detection through
`X-Gitlab-Event-UUID`.

Deliveries run on the deliverer's own event loop in a daemon thread, so `enqueue` works the same
from an async route, a sync route in Starlette's threadpool, or a plain test. Wrap the sandbox
app in `DeferDeliveries` so that events raised while handling a request go out only after its
response has been sent, and so that the request's `X-Gitlab-Event-UUID` is picked up for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

LOG_LIMIT = 500


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DeliveryLog:
    """One attempt (or one dropped event), shaped like GitLab's hook event log."""

    id: int
    hook_id: int
    trigger: str                       # "issue_hooks", "note_hooks", "confidential_note_hooks", ...
    event_header: str                  # "Issue Hook", ...
    url: str
    request_headers: dict[str, str]    # X-Gitlab-Token shown as "[REDACTED]"
    request_data: dict[str, Any]
    response_status: int | str         # "internal error" when no HTTP answer came back
    response_body: str
    execution_duration: float          # seconds
    created_at: datetime
    idempotency_key: str
    event_uuid: str
    outcome: str                       # delivered | failed | dropped_disabled | dropped_paused
                                       # | suppressed_recursion


@dataclass
class HookState:
    """A project hook: its settings (S1 renders them as API JSON) and its delivery bookkeeping."""

    id: int
    project_id: int
    url: str
    token: str | None = None
    issues_events: bool = False
    note_events: bool = False
    confidential_issues_events: bool = False
    confidential_note_events: bool = False
    emoji_events: bool = False
    push_events: bool = True
    enable_ssl_verification: bool = True
    created_at: datetime = field(default_factory=utc_now)
    recent_failures: int = 0
    backoff_count: int = 0
    disabled_until: datetime | None = None
    permanently_disabled: bool = False
    paused: bool = False
    log: list[DeliveryLog] = field(default_factory=list)

    def wants(self, event_header: str) -> bool:
        """Whether this hook subscribes to `event_header` ("Issue Hook", "Note Hook", ...)."""
        raise NotImplementedError

    def alert_status(self, now: datetime | None = None) -> str:
        """"executable" | "temporarily_disabled" | "disabled", as GitLab's hook API reports it."""
        raise NotImplementedError


class HookDeliverer:
    """Sends hook events in the background, one ordered queue per hook."""

    def __init__(
        self,
        instance_url: str,
        version: str = "17.11.1-ee",
        timeout: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        raise NotImplementedError

    def enqueue(
        self,
        hook: HookState,
        event_header: str,
        payload: dict[str, Any],
        *,
        incoming_event_uuid: str | None = None,
    ) -> None:
        """Queue one event for `hook` and return at once (safe from any thread).

        `incoming_event_uuid` is the `X-Gitlab-Event-UUID` of the API request that caused the
        event; inside `DeferDeliveries` it defaults to the current request's header.
        """
        raise NotImplementedError

    async def resend(self, hook: HookState, log_id: int) -> DeliveryLog:
        """Send a logged delivery again now: same body and Idempotency-Key, new Webhook-UUID."""
        raise NotImplementedError

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued delivery has been attempted (TimeoutError otherwise)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop the workers and the delivery thread; queued events are abandoned."""
        raise NotImplementedError


class DeferDeliveries:
    """ASGI middleware: hold events raised during a request until its response is sent."""

    def __init__(self, app: Any, deliverer: HookDeliverer) -> None:
        raise NotImplementedError
