"""/api/v1/matches: stage a cycle, list and read staged matches, approve, reject, send.

Staging goes through bot/staging/stage.py; every state change goes through `converge_issue` with an
`ApiAction`, exactly like a label edit or a comment would, so the API cannot do anything a
reviewer in GitLab could not, and the history note says it came from the API.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.common import (
    ApiError,
    gitlab_failure,
    json_endpoint,
    read_json,
    runtime_of,
)
from bot.api.openapi import Operation
from bot.api.schemas import (
    OUTCOMES,
    ActionOutcome,
    ActionRequest,
    ActionResponse,
    ErrorBody,
    InvalidBody,
    ListQuery,
    StagePartial,
    StageResponse,
)
from bot.lifecycle.timeline import Timeline, read_timeline
from bot.runtime import Runtime
from bot.staging.match import Match, MatchDetail, MatchPage, parse_matches
from bot.staging.read import get_staged, list_staged
from bot.staging.stage import CycleInterrupted, StagingError, notify_staged, stage_cycle

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"[\w.:\-]{1,128}")
_ERRORS = {
    401: ("Missing or wrong bearer token.", ErrorBody),
    502: ("GitLab answered with an error.", ErrorBody),
    503: ("No api_token configured, or GitLab unreachable.", ErrorBody),
}


def invalid(what: str, error: ValidationError) -> ApiError:
    """pydantic's errors as `{"loc": [...], "msg": ...}`, each naming the field."""
    details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors(include_url=False)]
    return ApiError(422, what, details=details)


def _validated(model: type[BaseModel], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(what, error) from None


@json_endpoint
async def stage_matches(request: Request) -> Response:
    """Stage one match (an object) or a cycle (a list). Below the threshold: skipped; already
    staged (same url, or same title and provider): returned, and updated when the score
    changed; otherwise a new issue. 201 when at least one issue was created."""
    runtime = runtime_of(request)
    data = await read_json(request)
    try:
        matches = parse_matches(data, attachments=set(runtime.settings.staging.attachments))
    except ValidationError as error:
        raise invalid("invalid match", error) from None
    failure: ApiError | None = None
    try:
        results = await run_in_threadpool(stage_cycle, runtime, matches, notify=False)
    except StagingError as error:
        raise ApiError(503, "staging is misconfigured", str(error)) from None
    except CycleInterrupted as interrupted:
        results, failure = interrupted.results, gitlab_failure(interrupted)
    counts: Counter[str] = Counter(r.outcome for r in results)
    body = StageResponse(results=results, **{k: counts[k] for k in OUTCOMES}).model_dump(mode="json")
    if failure is not None:
        body = {"error": "GitLab failed part-way through the cycle", "detail": failure.detail, **body}
    status = failure.status if failure is not None else 201 if counts["created"] else 200
    # The engine gets its answer now; notifications (which may wait for a channel) follow it.
    return JSONResponse(body, status_code=status, background=BackgroundTask(notify_staged, runtime, results))


@json_endpoint
async def list_matches(request: Request) -> Response:
    """Staged matches, newest first, optionally by state and minimum score."""
    runtime = runtime_of(request)
    query = _validated(ListQuery, dict(request.query_params), "invalid query")
    try:
        page = await run_in_threadpool(list_staged, runtime, **query.model_dump())
    except ValueError as error:
        raise ApiError(422, "invalid query", details=[{"loc": ["state"], "msg": str(error)}]) from None
    return JSONResponse(page.model_dump(mode="json"))


async def _job_match(runtime: Runtime, iid: int) -> MatchDetail:
    found = await run_in_threadpool(get_staged, runtime, iid)
    if found is None:
        raise ApiError(404, "not a job match", f"issue #{iid} does not carry the job-match label")
    return found


@json_endpoint
async def get_match(request: Request) -> Response:
    """One staged match with its description."""
    found = await _job_match(runtime_of(request), request.path_params["iid"])
    return JSONResponse(found.model_dump(mode="json"))


async def _act(request: Request, action: str, reason: str | None, *, when: str | None = None,
               with_: str | None = None) -> Response:
    """Hand the action to converge_issue and answer with what became of it."""
    from bot.converge import ApiAction, converge_issue
    from bot.markers import source_id

    runtime, iid = runtime_of(request), request.path_params["iid"]
    request_id = request.headers.get("idempotency-key") or uuid.uuid4().hex
    if not _REQUEST_ID.fullmatch(request_id):
        raise ApiError(400, "invalid Idempotency-Key", "use 1-128 letters, digits, '.', ':', '-' or '_'")
    await _job_match(runtime, iid)
    api_action = ApiAction(request_id=request_id, action=action, actor="api", reason=reason, when=when, with_=with_)
    result = await run_in_threadpool(converge_issue, runtime, iid, api_actions=[api_action])
    reply = result.outcome_of(source_id("api", request_id))
    refusal = next((o for o in reply.outcomes if o.kind == "refusal"), None) if reply else None
    outcome: ActionOutcome = "refused" if refusal else "applied" if reply else "already handled"
    logger.info("API %s on #%s: %s", action, iid, outcome,
                extra={"event": "api_action", "issue": iid, "action": action, "outcome": outcome})
    match = await _job_match(runtime, iid)
    body = ActionResponse(request_id=request_id, action=action, outcome=outcome,
                          why=refusal.why if refusal else None, match=match)
    return JSONResponse(body.model_dump(mode="json"), status_code=409 if refusal else 200)


@json_endpoint
async def act_on_match(request: Request) -> Response:
    """Approve or reject, as a reviewer would; after sending, record a reply, an interview round
    (`when`, `with`), an offer, or the outcome (hired, decline, turned-down, withdraw). Send an
    `Idempotency-Key` header to make a retry safe. 409 when the workflow refuses (e.g. rejecting
    a match already sent, or a time it cannot read)."""
    body = _validated(ActionRequest, await read_json(request), "invalid action")
    return await _act(request, body.action, body.reason, when=body.when, with_=body.with_)


@json_endpoint
async def match_timeline(request: Request) -> Response:
    """The application's events in order (staged, approved, sent, reply, rounds, offer, outcome),
    each with who, when and how, read back from the issue's history in GitLab."""
    from bot.snapshot import read_snapshot

    runtime, iid = runtime_of(request), request.path_params["iid"]
    match = await _job_match(runtime, iid)
    snapshot = await run_in_threadpool(read_snapshot, runtime.gitlab, iid)
    return JSONResponse(read_timeline(snapshot, match.state).model_dump(mode="json", by_alias=True))


@json_endpoint
async def send_match(request: Request) -> Response:
    """Mark an approved match as sent (the application went out)."""
    return await _act(request, "send", None)


_ACTION_ANSWERS = {
    200: ("The action was applied (or had been, for a repeated Idempotency-Key).", ActionResponse),
    404: ("No such issue, or not a job match.", ErrorBody),
    409: ("The workflow refused the action; `why` says why.", ActionResponse),
}

OPERATIONS = [
    Operation("POST", "/matches", stage_matches, "Stage one match or a cycle of matches",
              body=Match | list[Match],
              responses={201: ("At least one issue was created.", StageResponse),
                         200: ("Nothing new: every match skipped, unchanged or updated.", StageResponse),
                         400: ("The body is not JSON.", ErrorBody),
                         413: ("The body exceeds server.max_body_bytes.", ErrorBody),
                         422: ("A match is invalid; `details` names each field.", InvalidBody), **_ERRORS,
                         502: ("GitLab answered with an error. Part-way through a cycle (503 when GitLab "
                               "became unreachable): `error`, `detail` and a result per match, those GitLab's "
                               "failure kept from being staged `not_staged`.", StagePartial)}),
    Operation("GET", "/matches", list_matches, "List staged matches", query=ListQuery,
              responses={200: ("One page of matches.", MatchPage),
                         422: ("A query parameter is invalid.", InvalidBody), **_ERRORS}),
    Operation("GET", "/matches/{iid:int}", get_match, "Read one staged match",
              responses={200: ("The match.", MatchDetail),
                         404: ("No such issue, or not a job match.", ErrorBody), **_ERRORS}),
    Operation("GET", "/matches/{iid:int}/timeline", match_timeline, "The timeline of one application",
              responses={200: ("Its events, oldest first.", Timeline),
                         404: ("No such issue, or not a job match.", ErrorBody), **_ERRORS}),
    Operation("PATCH", "/matches/{iid:int}", act_on_match, "Act on a match: review, reply, interview, offer, outcome",
              body=ActionRequest,
              responses={**_ACTION_ANSWERS, 422: ("The action is invalid.", InvalidBody), **_ERRORS}),
    Operation("POST", "/matches/{iid:int}/send", send_match, "Mark a match as sent",
              responses={**_ACTION_ANSWERS, **_ERRORS}),
]
