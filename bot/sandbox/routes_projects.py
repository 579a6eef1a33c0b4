"""Projects: create (the creator becomes owner), list what the caller may see, get by id or path."""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.sandbox.auth import (
    OWNER,
    access_level,
    can_read_project,
    current_user,
    find_project,
    require_level,
)
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import ApiError, bad_request, invalid
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routing import route
from bot.sandbox.store import Member, Project
from bot.sandbox.views import project_json

log = logging.getLogger(__name__)

VISIBILITIES = ("private", "internal", "public")
_NOT_PATH = re.compile(r"[^a-z0-9_.-]+")


def path_from_name(name: str) -> str:
    return _NOT_PATH.sub("-", name.lower()).strip("-.") or "project"


async def post_project(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    store = sandbox.store
    params = await read_params(request)
    name, path = params.str("name"), params.str("path")
    if not name and not path:
        raise ApiError(
            400, {"error": "name, path are missing, at least one parameter must be provided"}
        )
    path = path or path_from_name(name or "")
    if _NOT_PATH.sub("", path.lower()) != path.lower():
        raise invalid("path")
    visibility = params.str("visibility", "private")
    if visibility not in VISIBILITIES:
        raise ApiError(400, {"error": "visibility does not have a valid value"})
    if store.project_by_path(f"{user.username}/{path}"):
        raise bad_request({"name": ["has already been taken"], "path": ["has already been taken"]})
    now = store.now()
    project = store.add(
        "projects",
        Project(
            id=store.new_id("projects"),
            name=name or path,
            path=path,
            namespace=user.username,
            creator_id=user.id,
            created_at=now,
            description=params.str("description", "") or "",
            visibility=visibility,
        ),
    )
    store.add(
        "members",
        Member(
            id=store.new_id("members"),
            project_id=project.id,
            user_id=user.id,
            access_level=OWNER,
            created_at=now,
            created_by_id=user.id,
        ),
    )
    log.info(
        "project %s (id %s) created by %s", project.path_with_namespace, project.id, user.username
    )
    return JSONResponse(project_json(sandbox, project, OWNER), status_code=201)


async def list_projects(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    store = sandbox.store
    params = await read_params(request)
    projects = [p for p in store.all("projects") if can_read_project(store, user, p)]
    if params.bool("membership") or params.bool("owned"):
        wanted = OWNER if params.bool("owned") else 1
        projects = [
            p for p in projects if (m := store.member(p.id, user.id)) and m.access_level >= wanted
        ]
    if search := params.str("search"):
        projects = [p for p in projects if search.lower() in p.name.lower() + " " + p.path.lower()]
    if visibility := params.str("visibility"):
        projects = [p for p in projects if p.visibility == visibility]
    projects.sort(key=lambda p: p.id, reverse=params.str("sort", "desc") != "asc")
    return paginate(
        request, params, projects, lambda p: project_json(sandbox, p, access_level(store, user, p))
    )


async def get_project(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    return JSONResponse(project_json(sandbox, project, access_level(sandbox.store, user, project)))


async def delete_project(request: Request) -> JSONResponse:
    user = current_user(request)
    store = sandbox_of(request).store
    project = find_project(store, user, request.path_params["project_id"])
    require_level(store, user, project, OWNER)
    issue_ids = {i.id for i in store.all("issues") if i.project_id == project.id}
    for event in store.all("label_events"):
        if event.issue_id in issue_ids:
            store.delete("label_events", event.id)
    for table in ("members", "labels", "issues", "notes", "todos", "uploads", "hooks"):
        for record in store.all(table):
            if record.project_id == project.id:
                store.delete(table, record.id)
    store.delete("projects", project.id)
    log.info("project %s deleted", project.path_with_namespace)
    return JSONResponse({"message": "202 Accepted"}, status_code=202)


routes = [
    route("/projects", list_projects),
    route("/projects", post_project, "POST"),
    route("/projects/{project_id:seg}", get_project),
    route("/projects/{project_id:seg}", delete_project, "DELETE"),
]
