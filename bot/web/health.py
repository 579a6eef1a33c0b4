"""`GET /health/live` (the process answers; `GET /health` too, the path many probes default to)
and `GET /health/ready` (it can do its job).

Ready means: GitLab answers, the bot's token is valid, the project is visible to it, and the
bot is not shutting down. Otherwise 503 with the reason, so an orchestrator (or a person) sees
what to fix. Ready also reports the queue and the last catch-up pass (`vorhoelle status` reads it).

Both answer anyone, so on a public deployment they say the status alone; the reason, the GitLab
URL, the project and the counts only to a request with the API token (`Authorization: Bearer`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.gitlab_access import GitLabAccess, GitLabError
from bot.web.bearer import bearer_matches


def not_ready_reason(error: GitLabError) -> str:
    if error.status == 0:
        return "GitLab is not reachable"
    if error.status == 401:
        return "the GitLab token is not valid (expired or revoked?)"
    if error.status in (403, 404):
        return "the project is not visible to the bot's user"
    return f"GitLab answered {error.status}"


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "live"})


def checked_project_path(gitlab: GitLabAccess) -> str:
    """Ping, then the project's path: read inside the same error handling, since it is asked of
    GitLab if the bot could not learn it at start, and GitLab may fail again right after the ping."""
    gitlab.ping()
    return gitlab.project.path


async def ready(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    if getattr(request.app.state, "draining", False):
        return answer(request, {"status": "not ready", "error": "shutting down"}, 503)
    try:
        project = await asyncio.to_thread(checked_project_path, runtime.gitlab)
    except GitLabError as error:
        return answer(request, {"status": "not ready", "error": not_ready_reason(error), "detail": error.message}, 503)
    catch_up = getattr(request.app.state, "catch_up", None)
    queue = runtime.queue
    return answer(request, {
        "status": "ready",
        "gitlab": runtime.gitlab.url,
        "project": project,
        "queue": {"idle": queue.idle, **queue.stats},
        "catch_up": catch_up.status() if catch_up else None,
    })


def answer(request: Request, body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    """`body` for a request with the API token, `{"status": ...}` alone for anyone else."""
    if not bearer_matches(request.app.state.runtime.settings.api_token, request.headers.get("authorization")):
        body = {"status": body["status"]}
    return JSONResponse(body, status_code=status_code)


def routes() -> list[BaseRoute]:
    return [
        Route("/health/live", live, methods=["GET"]),
        Route("/health", live, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
    ]
