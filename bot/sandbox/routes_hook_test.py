"""`POST /projects/:id/hooks/:hook_id/test/:trigger`: GitLab's "Test" button for a project hook.

As GitLab's `TestHooks::ProjectService`: the event is built from the project's first issue (or
first comment on an issue) with the caller as `user`, sent at once whatever the hook subscribes
to, and logged among the hook's events. 201 `{"message": "201 Created"}` when the receiver
answered 2xx; 422 with GitLab's message otherwise, or when there is nothing to build it from.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.sandbox import payloads
from bot.sandbox.auth import current_user
from bot.sandbox.context import Sandbox
from bot.sandbox.errors import ApiError, unprocessable
from bot.sandbox.routes_hooks import HOOKS_PATH, hook_of_request
from bot.sandbox.routing import route
from bot.sandbox.store import Project, User

log = logging.getLogger(__name__)

# The trigger names GitLab accepts (ProjectHook.triggers); the sandbox builds the issue and note ones.
GITLAB_TRIGGERS = (
    "push_hooks", "tag_push_hooks", "issue_hooks", "confidential_issue_hooks", "note_hooks",
    "confidential_note_hooks", "merge_request_hooks", "job_hooks", "pipeline_hooks",
    "wiki_page_hooks", "deployment_hooks", "feature_flag_hooks", "release_hooks", "emoji_hooks",
    "resource_access_token_hooks", "member_hooks", "milestone_hooks",
)
HEADERS = {
    "issue_hooks": "Issue Hook",
    "confidential_issue_hooks": "Confidential Issue Hook",
    "note_hooks": "Note Hook",
    "confidential_note_hooks": "Confidential Note Hook",
}


def _test_payload(sandbox: Sandbox, project: Project, user: User, trigger: str) -> dict:
    store = sandbox.store
    issues = sorted((i for i in store.all("issues") if i.project_id == project.id), key=lambda i: i.id)
    if trigger.endswith("issue_hooks"):
        if not issues:
            raise unprocessable("Ensure the project has issues.")
        body = payloads.issue_hook(sandbox, project, issues[0], user, "open", {})
        del body["object_attributes"]["action"]  # GitLab's test data carries no action
        return body
    ids = {i.id: i for i in issues}
    notes = sorted((n for n in store.all("notes") if n.issue_id in ids), key=lambda n: n.id)
    if not notes:
        raise unprocessable("Ensure the project has notes.")
    return payloads.note_hook(sandbox, project, ids[notes[0].issue_id], notes[0], user, "create")


async def test_hook(request: Request) -> JSONResponse:
    sandbox, hook = hook_of_request(request)
    project = sandbox.store.require("projects", hook.project_id)
    trigger = request.path_params["trigger"]
    if trigger not in GITLAB_TRIGGERS:
        raise ApiError(400, {"error": "trigger does not have a valid value"})  # Grape's wording
    if trigger not in HEADERS:
        raise unprocessable(f"the sandbox cannot build test data for {trigger}")
    payload = _test_payload(sandbox, project, current_user(request), trigger)
    entry = await sandbox.deliverer.test(hook, HEADERS[trigger], payload)
    log.info("hook %s tested with %s: %s", hook.id, trigger, entry.response_status)
    if isinstance(entry.response_status, int) and 200 <= entry.response_status < 300:
        return JSONResponse({"message": "201 Created"}, status_code=201)
    raise unprocessable(f"Error: {entry.response_status}" if isinstance(entry.response_status, int)
                   else f"Error: {entry.response_body}")


routes = [route(f"{HOOKS_PATH}/{{hook_id:seg}}/test/{{trigger:seg}}", test_hook, "POST")]
