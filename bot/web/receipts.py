"""What the webhook receiver saw of its last deliveries, so `vorhoelle selftest` can ask the
running bot whether GitLab's test delivery arrived, with which headers, and what it answered.

Only metadata is kept (never a body, never the token): the event, GitLab's ids for the delivery,
whether `X-Gitlab-Token` matched, and the answer. The last `KEPT` deliveries, in memory: a
restart forgets them, which is fine for a check run right after triggering a delivery.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

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


def receipt_of(headers: Headers, status: int, body: bytes, at: datetime) -> Receipt:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    said = str(answer.get("status") or answer.get("error") or "") if isinstance(answer, dict) else ""
    token = _TOKEN_ERRORS.get(said, "not checked" if said == "shutting down" else "matched")
    return Receipt(
        at=at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        event=headers.get("x-gitlab-event"),
        webhook_uuid=headers.get("x-gitlab-webhook-uuid"),
        event_uuid=headers.get("x-gitlab-event-uuid"),
        idempotency_key=headers.get("idempotency-key"),
        user_agent=headers.get("user-agent"),
        instance=headers.get("x-gitlab-instance"),
        token=token,
        status=status,
        answer=said,
    )


class Receipts:
    def __init__(self, size: int = KEPT) -> None:
        self._kept: collections.deque[Receipt] = collections.deque(maxlen=size)

    def add(self, receipt: Receipt) -> None:
        self._kept.append(receipt)

    def newest_first(self) -> list[Receipt]:
        return list(reversed(self._kept))


def receipts_of(app: Any) -> Receipts:
    if not hasattr(app.state, "receipts"):
        app.state.receipts = Receipts()
    return app.state.receipts


def recorded(receive: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Wrap the webhook endpoint: every answer it gives is noted as a `Receipt`."""

    async def endpoint(request: Request) -> Response:
        response = await receive(request)
        receipt = receipt_of(request.headers, response.status_code, bytes(response.body),
                             datetime.now(timezone.utc))
        receipts_of(request.app).add(receipt)
        return response

    endpoint.__name__, endpoint.__doc__ = receive.__name__, receive.__doc__
    return endpoint
