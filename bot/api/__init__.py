"""The REST API under /api/v1 (staging matches, listing, actions, config)."""

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
