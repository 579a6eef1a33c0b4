"""What the webhook receiver saw of its last deliveries, so `vorhoelle selftest` can ask the
running bot whether GitLab's test delivery arrived, with which headers, and what it answered.

A receipt shows metadata only (never a body, never the token): the event, GitLab's ids for the
delivery, whether `X-Gitlab-Token` matched, and the answer. Kept for it are the headers as they
came, less X-Gitlab-Token, which the receiver takes out before anything else reads them (on every
delivery's path, keeping the header dict costs nothing; picking the shown ones out of it waits
until a receipt is read). The last `KEPT` deliveries, in memory: a restart forgets them, which
is fine for a check run right after triggering a delivery.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Literal

KEPT = 100
TokenVerdict = Literal["matched", "missing", "wrong", "no secret configured", "not checked"]
# The receiver's 401 errors (bot/web/webhook.py::check_token), by what they say about the token.
_TOKEN_ERRORS: dict[str, TokenVerdict] = {
    "missing X-Gitlab-Token": "missing",
    "wrong X-Gitlab-Token": "wrong",
    "the bot has no webhook secret": "no secret configured",
}


@dataclass(frozen=True)
class Receipt:
    at: str
    event: str | None
    webhook_uuid: str | None
    event_uuid: str | None
    idempotency_key: str | None
    user_agent: str | None
    instance: str | None
    token: TokenVerdict
    status: int
    answer: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# The headers a receipt shows, in the order of its fields, as ASGI spells their names.
SHOWN_HEADERS = (b"x-gitlab-event", b"x-gitlab-webhook-uuid", b"x-gitlab-event-uuid", b"idempotency-key",
                 b"user-agent", b"x-gitlab-instance")
Kept = tuple[float, Mapping[bytes, bytes], int, str]


def receipt_of(kept: Kept) -> Receipt:
    at, headers, status, answer = kept
    event, webhook_uuid, event_uuid, idempotency_key, user_agent, instance = (
        None if value is None else value.decode("latin-1") for value in map(headers.get, SHOWN_HEADERS))
    return Receipt(
        at=datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        event=event, webhook_uuid=webhook_uuid, event_uuid=event_uuid, idempotency_key=idempotency_key,
        user_agent=user_agent, instance=instance,
        token=_TOKEN_ERRORS.get(answer, "not checked" if answer == "shutting down" else "matched"),
        status=status,
        answer=answer,
    )


class Receipts:
    """The last `size` answers of the receiver. Noting one costs the receiver an append to a
    bounded deque (it is on every delivery's path); the `Receipt` is made, and the headers it
    shows decoded, when it is read."""

    def __init__(self, size: int = KEPT) -> None:
        self._kept: collections.deque[Kept] = collections.deque(maxlen=size)

    def add(self, headers: Mapping[bytes, bytes], status: int, answer: str) -> None:
        """`headers`: the delivery's, without X-Gitlab-Token (bot/web/webhook.py `Delivery`),
        kept as they are; `answer`: what the receiver said ("queued", "ignored", …, or its error)."""
        self._kept.append((time.time(), headers, status, answer))

    def newest_first(self) -> list[Receipt]:
        return [receipt_of(kept) for kept in reversed(self._kept)]
