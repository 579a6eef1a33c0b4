"""PUT /api/v1/config: write the project's `.vorhoelle.yml` back as a commit, then apply it.

The body's `settings` replace the whole file (GET /api/v1/config shows what is in effect). They
are checked exactly as a pushed file would be: only the settings a project may hold, every value
valid, nothing looser than the operator's rights and recipients (bot/config/trust.py), or nothing
is written (422 with one line per problem, each naming the setting).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import project_file
from bot.api.common import ApiError, json_endpoint, read_json, runtime_of
from bot.api.openapi import Operation
from bot.api.schemas import ConfigView, ErrorBody
from bot.config.files import ConfigError
from bot.gitlab_access import GitLabError
from bot.config.masking import public_view

_STALE = "changed since you started editing"


class ConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        description="The whole new .vorhoelle.yml as JSON: workflow, staging, catch_up, notify "
        "(no secrets, hosts or file paths)."
    )
    author: str = Field(
        "the REST API", max_length=200, description="Who asked, named in the commit message."
    )


class ConfigWritten(BaseModel):
    file_path: str
    branch: str
    commit_message: str
    effective: ConfigView = Field(description="The settings now in effect, secrets masked.")


class ConfigProblems(BaseModel):
    error: str = Field(description="`invalid settings`.")
    problems: list[str] = Field(description="One line per problem: `.vorhoelle.yml:<line>: <setting>: <why>`.")


def _refused_by_gitlab(error: GitLabError) -> ApiError | None:
    """The answers that mean something here; None leaves the rest to json_endpoint."""
    if error.status == 400 and _STALE in error.message:
        return ApiError(409, "conflict", f"{project_file.PROJECT_FILE} changed meanwhile; read it again and retry")
    if error.status == 403:
        return ApiError(
            403, "forbidden",
            "the bot's GitLab user may not push to the default branch: make it a maintainer, "
            "or allow developers to push to that branch",
        )
    return None


@json_endpoint
async def write_config(request: Request) -> Response:
    """Replace the project's settings file with a commit, and apply it."""
    runtime = runtime_of(request)
    try:
        update = ConfigUpdate.model_validate(await read_json(request))
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ApiError(422, "invalid request", problems) from None
    try:
        written = await run_in_threadpool(project_file.write, runtime, update.settings,
                                           project_file.Author(update.author))
    except ConfigError as error:
        return JSONResponse({"error": "invalid settings", "problems": error.problems}, status_code=422)
    except GitLabError as error:
        refusal = _refused_by_gitlab(error)
        if refusal is None:
            raise
        raise refusal from None
    return JSONResponse({
        "file_path": written["file_path"],
        "branch": written["branch"],
        "commit_message": written["message"],
        "effective": public_view(runtime.settings),
    })


OPERATIONS = [
    Operation("PUT", "/config", write_config, "Write the project's .vorhoelle.yml and apply it",
              body=ConfigUpdate,
              responses={200: ("Committed and applied.", ConfigWritten),
                         400: ("The body is not JSON.", ErrorBody),
                         401: ("Missing or wrong bearer token.", ErrorBody),
                         403: ("The bot's user may not push to the default branch.", ErrorBody),
                         409: ("The file changed in GitLab meanwhile.", ErrorBody),
                         422: ("Settings a project may not hold, values looser than the operator's rights "
                               "and recipients, or invalid values; nothing written.",
                               ConfigProblems),
                         503: ("No api_token configured, or GitLab unreachable.", ErrorBody)}),
]
