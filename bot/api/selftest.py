"""GET /api/v1/selftest/deliveries: the webhook deliveries the bot received last, for
`vorhoelle selftest` to check that GitLab's test delivery arrived as the bot expects."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.common import json_endpoint
from bot.api.matches import invalid
from bot.api.openapi import Operation
from bot.api.schemas import ErrorBody
from bot.web.receipts import KEPT, TokenVerdict
from bot.web.webhook import receiver_state


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook_uuid: str | None = Field(None, description="Only the delivery with this X-Gitlab-Webhook-UUID.")


class DeliveryReceipt(BaseModel):
    at: str = Field(description="When it arrived (UTC, ISO 8601).")
    event: str | None = Field(description="X-Gitlab-Event.")
    webhook_uuid: str | None = Field(description="X-Gitlab-Webhook-UUID: GitLab's id of this request.")
    event_uuid: str | None = Field(description="X-Gitlab-Event-UUID.")
    idempotency_key: str | None = Field(description="Idempotency-Key (absent on GitLab before 17.4).")
    user_agent: str | None
    instance: str | None = Field(description="X-Gitlab-Instance.")
    token: TokenVerdict = Field(description="Whether X-Gitlab-Token matched the bot's webhook secret.")
    status: int = Field(description="The HTTP status the bot answered.")
    answer: str = Field(description="What the bot answered: queued, ignored, duplicate, or the error.")


class Deliveries(BaseModel):
    deliveries: list[DeliveryReceipt] = Field(description=f"Newest first; the last {KEPT} are kept in memory.")


@json_endpoint
async def deliveries(request: Request) -> Response:
    """The last webhook deliveries the bot received (metadata only), newest first."""
    try:
        query = DeliveriesQuery.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise invalid("invalid query", error) from None
    found = [r.to_json() for r in receiver_state(request.app).receipts.newest_first()
             if query.webhook_uuid is None or r.webhook_uuid == query.webhook_uuid]
    return JSONResponse({"deliveries": found})


OPERATIONS = [
    Operation("GET", "/selftest/deliveries", deliveries, "The webhook deliveries the bot received last",
              query=DeliveriesQuery,
              responses={200: ("Newest first.", Deliveries),
                         401: ("Missing or wrong bearer token.", ErrorBody),
                         422: ("Unknown query parameter.", ErrorBody)}),
]
