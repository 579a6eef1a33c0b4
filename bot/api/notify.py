"""POST /api/v1/notify/test: a test message on each enabled channel, and what happened.

The quickest way to check a Slack token, an SMTP password or a WhatsApp template after a
deployment, without waiting for a real match.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.common import ApiError, json_endpoint
from bot.api.matches import invalid
from bot.api.openapi import Operation
from bot.api.schemas import ErrorBody

ChannelName = Literal["console", "gitlab_todo", "slack", "email", "whatsapp"]


class NotifyTestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: ChannelName | None = Field(None, description="Only this channel (default: every enabled one).")


class ChannelResult(BaseModel):
    channel: str
    ok: bool
    detail: str = Field(description="The service's receipt (a message id), or why it failed.")


class NotifyTestResult(BaseModel):
    ok: bool = Field(description="Every channel tried delivered.")
    results: list[ChannelResult]


@json_endpoint
async def notify_test(request: Request) -> Response:
    """Send a test message on each enabled channel (or `?channel=slack` only); 200 with one
    result per channel when all delivered, 502 with the same body when one did not."""
    try:
        query = NotifyTestQuery.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise invalid("invalid query", error) from None
    notifier = getattr(request.app.state.runtime, "notifier", None)
    if notifier is None:
        raise ApiError(503, "notifications are off", "the bot runs without a notifier (no GitLab connection?)")
    outcomes = await run_in_threadpool(notifier.test, query.channel)
    results = [ChannelResult(channel=o.channel, ok=o.ok, detail=o.detail) for o in outcomes.values()]
    body = NotifyTestResult(ok=all(r.ok for r in results), results=results)
    return JSONResponse(body.model_dump(), status_code=200 if body.ok else 502)


OPERATIONS = [
    Operation("POST", "/notify/test", notify_test, "Send a test notification on each channel",
              query=NotifyTestQuery,
              responses={200: ("Every channel delivered.", NotifyTestResult),
                         502: ("At least one channel failed; see results.", NotifyTestResult),
                         401: ("Missing or wrong bearer token.", ErrorBody),
                         422: ("Unknown channel name.", ErrorBody),
                         503: ("No notifier running.", ErrorBody)}),
]

