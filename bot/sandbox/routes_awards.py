"""Award emoji on issues and on their comments: list, get, award (409 twice), revoke own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import current_user
from bot.sandbox.awards import awards_on, give_award, revoke_award
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import forbidden, not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routes_issues import find_issue
from bot.sandbox.routes_notes import find_note
from bot.sandbox.routing import route
from bot.sandbox.store import Award, Issue, Note, Project, User
from bot.sandbox.views import award_json


def _target(request: Request, user: User) -> tuple[Project, Issue, Note | None]:
    if "note_id" in request.path_params:
        return find_note(request, user)
    project, issue = find_issue(request, user)
    return project, issue, None


def _award(request: Request, user: User) -> tuple[Project, Issue, Note | None, Award]:
    project, issue, note = _target(request, user)
    wanted = request.path_params["award_id"]
    award = next((a for a in awards_on(sandbox_of(request), issue, note) if str(a.id) == wanted), None)
    if award is None:
        raise not_found("Award Emoji")
    return project, issue, note, award


async def list_awards(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    _, issue, note = _target(request, user)
    params = await read_params(request)
    awards = sorted(awards_on(sandbox, issue, note), key=lambda a: a.id)
    return paginate(request, params, awards, lambda a: award_json(sandbox, a))


async def get_award(request: Request) -> JSONResponse:
    user = current_user(request)
    *_, award = _award(request, user)
    return JSONResponse(award_json(sandbox_of(request), award))


async def post_award(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project, issue, note = _target(request, user)
    params = await read_params(request)
    name = params.required("name").strip(":")
    award = give_award(sandbox, user, project, issue, name, note)
    return JSONResponse(award_json(sandbox, award), status_code=201)


async def delete_award(request: Request) -> Response:
    user = current_user(request)
    project, issue, note, award = _award(request, user)
    if award.user_id != user.id and not user.is_admin:
        raise forbidden()
    revoke_award(sandbox_of(request), user, project, issue, award, note)
    return Response(status_code=204)


_ISSUE = "/projects/{project_id:seg}/issues/{issue_iid:seg}"
routes = []
for _base in (f"{_ISSUE}/award_emoji", f"{_ISSUE}/notes/{{note_id:seg}}/award_emoji"):
    routes += [
        route(_base, list_awards),
        route(_base, post_award, "POST"),
        route(f"{_base}/{{award_id:seg}}", get_award),
        route(f"{_base}/{{award_id:seg}}", delete_award, "DELETE"),
    ]
