"""`install_hook` narrows a widened hook to the bot's events, over real HTTP.

The sandbox keeps only the flags the bot reads (it reports every other one as off), so a widened
hook cannot be made there: a small GitLab stand-in keeps every flag of the project hook API, the
way GitLab stores them, and python-gitlab talks to it as to GitLab.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.gitlab_access import GitLabAccess
from bot.hook_admin import WANTED_EVENTS, install_hook
from tests.sandbox.serving import serving

# Every event flag of `PUT /projects/:id/hooks/:hook_id` (GitLab's doc/api/project_webhooks.md,
# "Edit a project webhook"), plus `emoji_events`, which the API takes but that table leaves out.
DOCUMENTED_EVENTS = (
    "confidential_issues_events", "confidential_note_events", "deployment_events", "emoji_events",
    "feature_flag_events", "issues_events", "job_events", "merge_requests_events", "note_events",
    "pipeline_events", "push_events", "releases_events", "tag_push_events", "wiki_page_events",
    "resource_access_token_events",
)
URL = "https://bot.example.com/webhook"


def gitlab_keeping_every_flag(hook: dict[str, Any]) -> Starlette:
    async def list_hooks(request: Request) -> JSONResponse:
        return JSONResponse([hook])

    async def edit_hook(request: Request) -> JSONResponse:
        hook.update(await request.json())
        return JSONResponse({key: value for key, value in hook.items() if key != "token"})

    return Starlette(routes=[
        Route("/api/v4/projects/{project}/hooks", list_hooks, methods=["GET"]),
        Route("/api/v4/projects/{project}/hooks/{hook_id:int}", edit_hook, methods=["PUT"]),
    ])


def test_a_hook_widened_to_every_event_is_narrowed_to_the_bots_events() -> None:
    hook: dict[str, Any] = {"id": 7, "url": URL, **{name: True for name in DOCUMENTED_EVENTS}}
    with serving(gitlab_keeping_every_flag(hook)) as url:
        _, created = install_hook(GitLabAccess(url, "made-up-token", 1, retries=0), URL, "made-up-secret")
    assert not created
    assert {name for name in DOCUMENTED_EVENTS if hook[name]} == set(WANTED_EVENTS)
