"""Project labels: list, create (409 on a taken name), get, rename/edit, delete, subscribe."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import REPORTER, current_user, find_project, require_level
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import conflict, missing
from bot.sandbox.labels import find_label, new_label, valid_color, valid_label_name
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routing import route
from bot.sandbox.store import Project, Store, User
from bot.sandbox.views import label_json

log = logging.getLogger(__name__)


def _project(request: Request, *, manage: bool) -> tuple[Store, User, Project]:
    user = current_user(request)
    store = sandbox_of(request).store
    project = find_project(store, user, request.path_params["project_id"])
    if manage:
        require_level(store, user, project, REPORTER)
    return store, user, project


async def list_labels(request: Request) -> JSONResponse:
    store, user, project = _project(request, manage=False)
    params = await read_params(request)
    labels = sorted(
        (label for label in store.all("labels") if label.project_id == project.id),
        key=lambda label: label.name.lower(),
    )
    if search := params.str("search"):
        labels = [label for label in labels if search.lower() in label.name.lower()]
    sandbox = sandbox_of(request)
    return paginate(request, params, labels, lambda label: label_json(sandbox, label, user))


async def get_label(request: Request) -> JSONResponse:
    store, user, project = _project(request, manage=False)
    label = find_label(store, project, request.path_params["label_id"])
    return JSONResponse(label_json(sandbox_of(request), label, user))


async def post_label(request: Request) -> JSONResponse:
    store, user, project = _project(request, manage=True)
    params = await read_params(request)
    name = valid_label_name(params.required("name"))
    color = params.str("color")
    if not color:
        raise missing("color")
    color = valid_color(color)
    if store.label_by_name(project.id, name):
        raise conflict("Label already exists")
    label = new_label(
        store, project, name, color, params.str("description"), params.int("priority")
    )
    log.info("label %r created in %s by %s", name, project.path_with_namespace, user.username)
    return JSONResponse(label_json(sandbox_of(request), label, user), status_code=201)


async def put_label(request: Request) -> JSONResponse:
    store, user, project = _project(request, manage=True)
    params = await read_params(request)
    ref = request.path_params.get("label_id") or params.str("label_id") or params.required("name")
    label = find_label(store, project, ref)
    new_name = params.str("new_name")
    new_color = params.str("color")
    if new_name is None and new_color is None and not {"description", "priority"} & set(params.values):
        raise missing("new_name, color, description, priority")
    if new_name is not None:
        new_name = valid_label_name(new_name)
        other = store.label_by_name(project.id, new_name)
        if other and other.id != label.id:
            raise conflict("Label already exists")
    color = valid_color(new_color) if new_color is not None else label.color
    priority = params.int("priority") if "priority" in params else label.priority
    if new_name is not None and new_name != label.name:
        log.info("label %r renamed to %r by %s", label.name, new_name, user.username)
        label.name = new_name
    label.color = color
    if "description" in params:
        label.description = params.str("description")
    label.priority = priority
    label.updated_at = store.now()
    return JSONResponse(label_json(sandbox_of(request), label, user))


async def delete_label(request: Request) -> Response:
    store, user, project = _project(request, manage=True)
    label = find_label(store, project, request.path_params["label_id"])
    for issue in store.all("issues"):
        if label.id in issue.label_ids:
            issue.label_ids.remove(label.id)
    store.delete("labels", label.id)
    log.info("label %r deleted from %s by %s", label.name, project.path_with_namespace, user.username)
    return Response(status_code=204)


def subscription(subscribe: bool) -> Callable[[Request], Awaitable[Response]]:
    """`POST …/labels/:id/subscribe` and `/unsubscribe`: 201 with the label, 304 when nothing
    changes (already subscribed, or not subscribed), as GitLab answers."""

    async def endpoint(request: Request) -> Response:
        store, user, project = _project(request, manage=False)
        label = find_label(store, project, request.path_params["label_id"])
        if (user.id in label.subscriber_ids) == subscribe:
            return Response(status_code=304)
        if subscribe:
            label.subscriber_ids.append(user.id)
        else:
            label.subscriber_ids.remove(user.id)
        log.info("%s %s label %r", user.username, "subscribed to" if subscribe else "unsubscribed from", label.name)
        return JSONResponse(label_json(sandbox_of(request), label, user), status_code=201)

    return endpoint


routes = [
    route("/projects/{project_id:seg}/labels", list_labels),
    route("/projects/{project_id:seg}/labels", post_label, "POST"),
    route("/projects/{project_id:seg}/labels", put_label, "PUT"),
    route("/projects/{project_id:seg}/labels/{label_id:seg}", get_label),
    route("/projects/{project_id:seg}/labels/{label_id:seg}", put_label, "PUT"),
    route("/projects/{project_id:seg}/labels/{label_id:seg}", delete_label, "DELETE"),
    route("/projects/{project_id:seg}/labels/{label_id:seg}/subscribe", subscription(True), "POST"),
    route("/projects/{project_id:seg}/labels/{label_id:seg}/unsubscribe", subscription(False), "POST"),
]
