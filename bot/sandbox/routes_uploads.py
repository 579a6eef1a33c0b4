"""Project uploads: store a file, answer GitLab's `{id, alt, url, full_path, markdown}`, serve it.

The file is downloadable at `{project web_url}{url}` and at `{base}{full_path}`, as in GitLab;
for a private project the download needs a token of someone who can see the project.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
from pathlib import PurePosixPath

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import GUEST, can_read_project, current_user, find_project, optional_user, require_level
from bot.sandbox.context import sandbox_of
from bot.sandbox.errors import not_found
from bot.sandbox.params import read_params
from bot.sandbox.routing import record_id, route
from bot.sandbox.store import Project, Upload

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024


async def post_upload(request: Request) -> JSONResponse:
    user = current_user(request)
    sandbox = sandbox_of(request)
    store = sandbox.store
    project = find_project(store, user, request.path_params["project_id"])
    require_level(store, user, project, GUEST)
    params = await read_params(request)
    file = params.upload("file")
    content = await file.read()
    if len(content) > MAX_UPLOAD_BYTES:
        return JSONResponse({"message": "413 Request Entity Too Large"}, status_code=413)
    filename = PurePosixPath(file.filename or "file").name or "file"
    upload = store.add(
        "uploads",
        Upload(
            id=store.new_id("uploads"),
            project_id=project.id,
            secret=secrets.token_hex(16),
            filename=filename,
            content_hex=content.hex(),
            created_at=store.now(),
        ),
    )
    url = f"/uploads/{upload.secret}/{filename}"
    alt = markdown_name(filename)
    markdown = f"{'!' if embedded(filename) else ''}[{alt}]({url})"
    log.info("upload %s (%d bytes) to %s", filename, len(content), project.path_with_namespace)
    return JSONResponse(
        {
            "id": upload.id,
            "alt": alt,
            "url": url,
            "full_path": f"/-/project/{project.id}/uploads/{upload.secret}/{filename}",
            "markdown": markdown,
        },
        status_code=201,
    )


def embedded(filename: str) -> bool:
    """Images and videos are shown inline (`![...]`); other files are links."""
    return (mimetypes.guess_type(filename)[0] or "").split("/")[0] in ("image", "video")


def markdown_name(filename: str) -> str:
    """GitLab's `FileUploader#markdown_name`: the stem for what is shown inline, else the whole
    name; `]` escaped so the link stays one link. It is also the answer's `alt`."""
    name = PurePosixPath(filename).stem if embedded(filename) else filename
    return name.replace("]", "\\]")


def _serve(request: Request, project: Project | None) -> Response:
    store = sandbox_of(request).store
    user = optional_user(request)
    if project is None or not can_read_project(store, user, project):
        raise not_found("Project")
    secret, filename = request.path_params["secret"], request.path_params["filename"]
    upload = next(
        (
            u
            for u in store.all("uploads")
            if u.project_id == project.id and u.secret == secret and u.filename == filename
        ),
        None,
    )
    if upload is None:
        raise not_found("File")
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Response(bytes.fromhex(upload.content_hex), media_type=media_type)


async def download_by_path(request: Request) -> Response:
    store = sandbox_of(request).store
    path = f"{request.path_params['namespace']}/{request.path_params['project']}"
    return _serve(request, store.project_by_path(path))


async def download_by_id(request: Request) -> Response:
    store = sandbox_of(request).store
    project_id = request.path_params["project_id"]
    return _serve(request, store.get("projects", record_id(project_id)))


routes = [route("/projects/{project_id:seg}/uploads", post_upload, "POST")]
web_routes = [
    route("/-/project/{project_id:seg}/uploads/{secret:seg}/{filename:seg}", download_by_id),
    route("/{namespace:seg}/{project:seg}/uploads/{secret:seg}/{filename:seg}", download_by_path),
]
