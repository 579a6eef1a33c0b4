"""GET /api/v1/config: the settings the bot runs with, every secret masked.

The first question when the bot does something surprising is "what does it think its
configuration is?" — this answers it without a shell on the server.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.common import json_endpoint
from bot.api.openapi import Operation
from bot.api.schemas import ConfigView, ErrorBody
from bot.config.masking import public_view


@json_endpoint
async def show_config(request: Request) -> Response:
    """The effective configuration (defaults, file, environment merged), secrets masked."""
    return JSONResponse(public_view(request.app.state.runtime.settings))


OPERATIONS = [
    Operation("GET", "/config", show_config, "Show the effective configuration",
              responses={200: ("The settings, secrets shown as **********.", ConfigView),
                         401: ("Missing or wrong bearer token.", ErrorBody),
                         503: ("No api_token configured.", ErrorBody)}),
]
