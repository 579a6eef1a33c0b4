"""Project members with GitLab's access levels; maintainers manage them, owners grant owner."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import (
    ACCESS_LEVELS,
    MAINTAINER,
    OWNER,
    access_level,
    current_user,
    find_project,
    require_level,
)
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import ApiError, conflict, forbidden, missing, not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import Params, read_params
from bot.sandbox.routing import record_id, route
from bot.sandbox.store import Member, Project, Store, User
from bot.sandbox.views import member_json

log = logging.getLogger(__name__)


def _access_level(params: Params, caller_level: int) -> int:
    level = params.int("access_level")
    if level is None:
        raise missing("access_level")
    if level not in ACCESS_LEVELS:
        raise ApiError(400, {"error": "access_level does not have a valid value"})
    if level == OWNER and caller_level < OWNER:
        raise forbidden()
    return level


def _member(store: Store, project: Project, user_id: str) -> Member:
    number = record_id(user_id)
    member = store.member(project.id, number) if number is not None else None
    if member is None:
        raise not_found("Member")
    return member


def _managed(request: Request) -> tuple[Store, User, Project]:
    """The project, after checking the caller may manage its members (maintainer and up)."""
    user = current_user(request)
    store = sandbox_of(request).store
    project = find_project(store, user, request.path_params["project_id"])
    require_level(store, user, project, MAINTAINER)
    return store, user, project


async def list_members(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    params = await read_params(request)
    members = [m for m in sandbox.store.all("members") if m.project_id == project.id]
    if query := params.str("query"):
        members = [
            m
            for m in members
            if query.lower() in (u := sandbox.store.require("users", m.user_id)).username.lower()
            or query.lower() in u.name.lower()
        ]
    if user_ids := params.int_list("user_ids"):
        members = [m for m in members if m.user_id in user_ids]
    return paginate(request, params, members, lambda m: member_json(sandbox, m))


async def get_member(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    member = _member(sandbox.store, project, request.path_params["user_id"])
    return JSONResponse(member_json(sandbox, member))


async def add_member(request: Request) -> JSONResponse:
    store, caller, project = _managed(request)
    params = await read_params(request)
    if username := params.str("username"):
        user = store.user_by_username(username)
    else:
        user_id = params.int("user_id")
        if user_id is None:
            raise missing("user_id")
        user = store.get("users", user_id)
    if user is None:
        raise not_found("User")
    level = _access_level(params, access_level(store, caller, project))
    if store.member(project.id, user.id):
        raise conflict("Member already exists")
    member = store.add(
        "members",
        Member(
            id=store.new_id("members"),
            project_id=project.id,
            user_id=user.id,
            access_level=level,
            created_at=store.now(),
            created_by_id=caller.id,
            expires_at=params.str("expires_at"),
        ),
    )
    log.info("%s joined %s at level %s", user.username, project.path_with_namespace, level)
    return JSONResponse(member_json(sandbox_of(request), member), status_code=201)


async def edit_member(request: Request) -> JSONResponse:
    store, caller, project = _managed(request)
    member = _member(store, project, request.path_params["user_id"])
    params = await read_params(request)
    caller_level = access_level(store, caller, project)
    if member.access_level == OWNER and caller_level < OWNER:
        raise forbidden()
    member.access_level = _access_level(params, caller_level)
    if "expires_at" in params:
        member.expires_at = params.str("expires_at")
    return JSONResponse(member_json(sandbox_of(request), member))


async def remove_member(request: Request) -> Response:
    store, caller, project = _managed(request)
    member = _member(store, project, request.path_params["user_id"])
    if member.access_level == OWNER and access_level(store, caller, project) < OWNER:
        raise forbidden()
    store.delete("members", member.id)
    log.info("user %s left %s", member.user_id, project.path_with_namespace)
    return Response(status_code=204)


routes = [
    route("/projects/{project_id:seg}/members", list_members),
    route("/projects/{project_id:seg}/members/all", list_members),
    route("/projects/{project_id:seg}/members", add_member, "POST"),
    route("/projects/{project_id:seg}/members/all/{user_id:seg}", get_member),
    route("/projects/{project_id:seg}/members/{user_id:seg}", get_member),
    route("/projects/{project_id:seg}/members/{user_id:seg}", edit_member, "PUT"),
    route("/projects/{project_id:seg}/members/{user_id:seg}", remove_member, "DELETE"),
]
