"""Comments on issues (notes) and the discussions that group them.

Quick actions are taken out of a comment before it is saved and run as its author. A comment
made only of quick actions is never saved and fires no Note Hook: the API answers 202 with what
the commands changed, or 400 when none of them could apply (an `/approve` on an issue).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox import events
from bot.sandbox.auth import MAINTAINER, REPORTER, access_level, current_user
from bot.sandbox.awards import delete_note_with_awards
from bot.sandbox.commands import QuickActionsResult, run_quick_actions
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import ApiError, forbidden, not_found, unprocessable
from bot.sandbox.issue_service import touch
from bot.sandbox.pagination import paginate
from bot.sandbox.params import Params, read_params
from bot.sandbox.quick_actions import extract_quick_actions
from bot.sandbox.routes_issues import find_issue
from bot.sandbox.routing import route
from bot.sandbox.store import Issue, Note, Project, User
from bot.sandbox.todos import done_by_acting, todos_for_mentions
from bot.sandbox.views import note_json

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000


def _visible_notes(sandbox: Sandbox, user: User, project: Project, issue: Issue) -> list[Note]:
    reporter = access_level(sandbox.store, user, project) >= REPORTER
    return [
        n
        for n in sandbox.store.all("notes")
        if n.issue_id == issue.id and (reporter or not n.internal or n.author_id == user.id)
    ]


def find_note(request: Request, user: User) -> tuple[Project, Issue, Note]:
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    note_id = request.path_params["note_id"]
    note = next(
        (n for n in _visible_notes(sandbox, user, project, issue) if str(n.id) == note_id), None
    )
    if note is None:
        raise not_found("Note")
    return project, issue, note


def _body(params: Params) -> str:
    body = params.required("body")
    if len(body) > MAX_BODY:
        raise unprocessable({"note": [f"is too long (maximum is {MAX_BODY} characters)"]})
    return body


def _commands_only(outcome: QuickActionsResult) -> JSONResponse:
    if outcome.applied:
        body = {"commands_changes": outcome.commands_changes, "summary": outcome.summary}
        return JSONResponse(body, status_code=202)
    raise ApiError(400, {"message": "400 Bad request - " + " ".join(outcome.summary)})


def create_note(
    sandbox: Sandbox,
    user: User,
    project: Project,
    issue: Issue,
    params: Params,
    *,
    discussion_id: str | None = None,
    thread: bool = False,
) -> Note | QuickActionsResult:
    """Save a comment (quick actions removed and run); the QuickActionsResult alone when nothing is left."""
    body = _body(params)
    internal = bool(params.bool("internal", False) or params.bool("confidential", False))
    if internal and access_level(sandbox.store, user, project) < REPORTER:
        raise forbidden()
    extracted = extract_quick_actions(body)
    if not extracted.text.strip() and extracted.actions:
        return run_quick_actions(sandbox, user, project, issue, extracted.actions)
    store = sandbox.store
    now = store.now()
    note = store.add(
        "notes",
        Note(
            id=store.new_id("notes"),
            project_id=project.id,
            issue_id=issue.id,
            body=extracted.text,
            author_id=user.id,
            created_at=now,
            updated_at=now,
            discussion_id=discussion_id or secrets.token_hex(20),
            internal=internal,
            individual=discussion_id is None and not thread,
        ),
    )
    touch(sandbox, issue)
    done_by_acting(sandbox, user, issue)
    todos_for_mentions(sandbox, user, project, issue, note.body)
    log.info("note %s on %s#%s by %s", note.id, project.path_with_namespace, issue.iid, user.username)
    events.note_event(sandbox, project, issue, note, user, "create")
    if extracted.actions:
        run_quick_actions(sandbox, user, project, issue, extracted.actions)
    return note


async def list_notes(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    params = await read_params(request)
    order_by = params.str("order_by", "created_at")
    sort = params.str("sort", "desc")
    if order_by not in ("created_at", "updated_at"):
        raise ApiError(400, {"error": "order_by does not have a valid value"})
    if sort not in ("asc", "desc"):
        raise ApiError(400, {"error": "sort does not have a valid value"})
    notes = sorted(
        _visible_notes(sandbox, user, project, issue),
        key=lambda n: (getattr(n, order_by), n.id),
        reverse=sort == "desc",
    )
    return paginate(request, params, notes, lambda n: note_json(sandbox, n))


async def get_note(request: Request) -> JSONResponse:
    user = current_user(request)
    _, _, note = find_note(request, user)
    return JSONResponse(note_json(sandbox_of(request), note))


async def post_note(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    result = create_note(sandbox, user, project, issue, await read_params(request))
    if isinstance(result, QuickActionsResult):
        return _commands_only(result)
    return JSONResponse(note_json(sandbox, result), status_code=201)


async def put_note(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue, note = find_note(request, user)
    if note.system or (note.author_id != user.id and not user.is_admin):
        raise forbidden()  # GitLab's NotePolicy: a system note is not editable, not even by its actor
    params = await read_params(request)
    extracted = extract_quick_actions(_body(params))
    outcome = run_quick_actions(sandbox, user, project, issue, extracted.actions) if extracted.actions else None
    if outcome is not None and not extracted.text.strip():
        if outcome.applied:  # edited into commands that ran: GitLab deletes the comment
            delete_note_with_awards(sandbox, issue, note)
        return _commands_only(outcome)  # none could apply: 400, the comment stays as it was
    previous = note.body
    note.body, note.updated_at = extracted.text, sandbox.store.now()
    touch(sandbox, issue)
    todos_for_mentions(sandbox, user, project, issue, note.body, previous)
    events.note_event(sandbox, project, issue, note, user, "update")
    return JSONResponse(note_json(sandbox, note))


async def delete_note(request: Request) -> Response:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue, note = find_note(request, user)
    if note.system or (note.author_id != user.id and access_level(sandbox.store, user, project) < MAINTAINER):
        raise forbidden()
    delete_note_with_awards(sandbox, issue, note)
    touch(sandbox, issue)
    return Response(status_code=204)


# -- discussions -------------------------------------------------------------------------------


def _discussions(sandbox: Sandbox, notes: list[Note]) -> list[dict[str, Any]]:
    grouped: dict[str, list[Note]] = {}
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        grouped.setdefault(note.discussion_id, []).append(note)
    return [
        {
            "id": discussion_id,
            "individual_note": len(group) == 1 and group[0].individual,
            "notes": [note_json(sandbox, n) for n in group],
        }
        for discussion_id, group in grouped.items()
    ]


async def list_discussions(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    params = await read_params(request)
    rows = _discussions(sandbox, _visible_notes(sandbox, user, project, issue))
    return paginate(request, params, rows, lambda row: row)


def _discussion(sandbox: Sandbox, user: User, project: Project, issue: Issue, discussion_id: str) -> dict[str, Any]:
    notes = [n for n in _visible_notes(sandbox, user, project, issue) if n.discussion_id == discussion_id]
    if not notes:
        raise not_found("Discussion")
    return _discussions(sandbox, notes)[0]


async def get_discussion(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    return JSONResponse(_discussion(sandbox, user, project, issue, request.path_params["discussion_id"]))


async def post_discussion(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    result = create_note(sandbox, user, project, issue, await read_params(request), thread=True)
    if isinstance(result, QuickActionsResult):
        return _commands_only(result)
    body = _discussion(sandbox, user, project, issue, result.discussion_id)
    return JSONResponse(body, status_code=201)


async def post_discussion_note(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue = find_issue(request, user)
    discussion_id = request.path_params["discussion_id"]
    _discussion(sandbox, user, project, issue, discussion_id)
    result = create_note(
        sandbox, user, project, issue, await read_params(request), discussion_id=discussion_id
    )
    if isinstance(result, QuickActionsResult):
        return _commands_only(result)
    for note in sandbox.store.all("notes"):
        if note.discussion_id == discussion_id:
            note.individual = False
    return JSONResponse(note_json(sandbox, result), status_code=201)


_ISSUE = "/projects/{project_id:seg}/issues/{issue_iid:seg}"
routes = [
    route(f"{_ISSUE}/notes", list_notes),
    route(f"{_ISSUE}/notes", post_note, "POST"),
    route(f"{_ISSUE}/notes/{{note_id:seg}}", get_note),
    route(f"{_ISSUE}/notes/{{note_id:seg}}", put_note, "PUT"),
    route(f"{_ISSUE}/notes/{{note_id:seg}}", delete_note, "DELETE"),
    route(f"{_ISSUE}/discussions", list_discussions),
    route(f"{_ISSUE}/discussions", post_discussion, "POST"),
    route(f"{_ISSUE}/discussions/{{discussion_id:seg}}", get_discussion),
    route(f"{_ISSUE}/discussions/{{discussion_id:seg}}/notes", post_discussion_note, "POST"),
    route(f"{_ISSUE}/discussions/{{discussion_id:seg}}/notes/{{note_id:seg}}", put_note, "PUT"),
    route(f"{_ISSUE}/discussions/{{discussion_id:seg}}/notes/{{note_id:seg}}", delete_note, "DELETE"),
]
