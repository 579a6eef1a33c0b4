"""What both message routes share: JSON errors like the rest of the bot, and a bounded body."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.web.webhook import Refused, read_body

MAX_FORM_BYTES = 1024 * 1024   # a Slack payload carries its message (≤ 50 blocks); Twilio's is small


class Rejected(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(error)
        self.response = error_response(status, error, detail)


def error_response(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def form_body(request: Request) -> bytes:
    """The raw body (the signature covers the bytes), refused past `MAX_FORM_BYTES`."""
    try:
        return await read_body(request, MAX_FORM_BYTES)
    except Refused as refused:
        raise Rejected(refused.status, refused.error, str(refused.detail)) from None
