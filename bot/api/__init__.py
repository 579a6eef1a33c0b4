"""The REST API under /api/v1 (staging matches, listing, actions, config) and its documentation.

Every /api/v1 route sits behind the bearer-token check (bot/api/auth.py); `/openapi.json` and
`/docs` are public and generated from the same `Operation` lists the routes are built from.
"""

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from bot.api import config, config_routes, matches, notify, selftest
from bot.api.auth import BearerAuth
from bot.api.openapi import PREFIX, Operation, doc_routes

OPERATIONS: list[Operation] = [*matches.OPERATIONS, *config.OPERATIONS, *config_routes.OPERATIONS, *notify.OPERATIONS,
                               *selftest.OPERATIONS]


def routes() -> list[BaseRoute]:
    api = [Route(op.path, op.endpoint, methods=[op.method]) for op in OPERATIONS]
    return [
        Mount(PREFIX, routes=api, middleware=[Middleware(BearerAuth)]),
        *(Route(path, endpoint, methods=["GET"]) for path, endpoint in doc_routes(OPERATIONS)),
    ]
