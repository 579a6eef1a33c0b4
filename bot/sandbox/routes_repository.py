"""A minimal repository per project: one branch `main`, files, commits, and Push Hooks.

Enough of GitLab's repository files API for a bot that keeps its settings in the project
(`.vorhoelle.yml`): `GET|POST|PUT|DELETE /projects/:id/repository/files/:file_path` (text or
base64 content, `branch`, `commit_message`, `last_commit_id` as a lost-update guard), `.../raw`,
and `GET /projects/:id/repository/commits[/:sha]`. Each write is a commit holding a full
snapshot of the tree (repositories here are a handful of small files) and fires a Push Hook
shaped like GitLab's.

As in a new GitLab project, `main` is protected: reporters and up may read, maintainers and up
may push ("You are not allowed to push into this branch" otherwise).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox import events
from bot.sandbox.auth import MAINTAINER, REPORTER, current_user, find_project, require_level
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import ApiError, bad_request, forbidden, missing, not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import Params, read_params
from bot.sandbox.routing import route
from bot.sandbox.store import TABLES, Project, User, parse_time
from bot.sandbox.views import project_json

log = logging.getLogger(__name__)

DEFAULT_BRANCH = "main"
BLANK_SHA = "0" * 40
PUSH_HOOK = "Push Hook"
VISIBILITY_LEVELS = {"private": 0, "internal": 10, "public": 20}


@dataclass
class Commit:
    id: int
    project_id: int
    sha: str
    parent_sha: str | None
    branch: str
    message: str
    author_id: int
    author_name: str
    author_email: str
    created_at: str
    files: dict[str, str] = field(default_factory=dict)  # path -> base64 content, whole tree
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


# The store saves and reloads every table named in TABLES; the repository is one more.
TABLES.setdefault("commits", Commit)


# --- reading the repository ---------------------------------------------------------------------


def commits_of(sandbox: Sandbox, project: Project) -> list[Commit]:
    """The project's commits, newest first."""
    rows = sandbox.store.tables.setdefault("commits", {}).values()
    return sorted((c for c in rows if c.project_id == project.id), key=lambda c: c.id, reverse=True)


def head(sandbox: Sandbox, project: Project, ref: str) -> Commit | None:
    """The commit `ref` names: a branch (its newest commit) or a commit sha (at least 7 digits)."""
    for commit in commits_of(sandbox, project):
        if commit.branch == ref or (len(ref) >= 7 and commit.sha.startswith(ref)):
            return commit
    return None


def last_commit_touching(sandbox: Sandbox, project: Project, tip: Commit, path: str) -> Commit:
    """The newest commit at or before `tip` whose change includes `path`."""
    for commit in commits_of(sandbox, project):
        if commit.id <= tip.id and path in commit.added + commit.modified:
            return commit
    return tip


def blob_sha(content: bytes) -> str:
    """Git's blob id: sha1 of `blob <size>\\0<content>`."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def commit_json(sandbox: Sandbox, project: Project, commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.sha,
        "short_id": commit.sha[:8],
        "created_at": commit.created_at,
        "parent_ids": [commit.parent_sha] if commit.parent_sha else [],
        "title": commit.title,
        "message": commit.message,
        "author_name": commit.author_name,
        "author_email": commit.author_email,
        "authored_date": commit.created_at,
        "committer_name": commit.author_name,
        "committer_email": commit.author_email,
        "committed_date": commit.created_at,
        "trailers": {},
        "extended_trailers": {},
        "web_url": sandbox.web_url(f"{project.path_with_namespace}/-/commit/{commit.sha}"),
    }


def _readable_project(request: Request) -> tuple[Sandbox, User, Project]:
    user = current_user(request)
    sandbox = sandbox_of(request)
    project = find_project(sandbox.store, user, request.path_params["project_id"])
    require_level(sandbox.store, user, project, REPORTER)
    return sandbox, user, project


def _file_at(sandbox: Sandbox, project: Project, path: str, ref: str) -> tuple[Commit, bytes]:
    tip = head(sandbox, project, ref)
    if tip is None or path not in tip.files:
        raise not_found("File")
    return tip, base64.b64decode(tip.files[path])


async def get_file(request: Request) -> JSONResponse:
    sandbox, _, project = _readable_project(request)
    params = await read_params(request)
    path = request.path_params["file_path"]
    tip, content = _file_at(sandbox, project, path, params.required("ref"))
    return JSONResponse(
        {
            "file_name": path.rsplit("/", 1)[-1],
            "file_path": path,
            "size": len(content),
            "encoding": "base64",
            "content": base64.b64encode(content).decode("ascii"),
            "content_sha256": hashlib.sha256(content).hexdigest(),
            "ref": params.str("ref"),
            "blob_id": blob_sha(content),
            "commit_id": tip.sha,
            "last_commit_id": last_commit_touching(sandbox, project, tip, path).sha,
            "execute_filemode": False,
        }
    )


async def get_raw_file(request: Request) -> Response:
    sandbox, _, project = _readable_project(request)
    params = await read_params(request)
    _, content = _file_at(sandbox, project, request.path_params["file_path"], params.str("ref") or DEFAULT_BRANCH)
    return Response(content, media_type="text/plain; charset=utf-8")


async def list_commits(request: Request) -> JSONResponse:
    sandbox, _, project = _readable_project(request)
    params = await read_params(request)
    commits = commits_of(sandbox, project)
    tip = head(sandbox, project, params.str("ref_name") or DEFAULT_BRANCH)
    commits = [c for c in commits if tip is not None and c.id <= tip.id]
    if path := params.str("path"):
        commits = [c for c in commits if path in c.added + c.modified + c.removed]
    if since := params.str("since"):
        commits = [c for c in commits if parse_time(c.created_at) >= parse_time(since)]
    if until := params.str("until"):
        commits = [c for c in commits if parse_time(c.created_at) <= parse_time(until)]
    return paginate(request, params, commits, lambda c: commit_json(sandbox, project, c))


async def get_commit(request: Request) -> JSONResponse:
    sandbox, _, project = _readable_project(request)
    commit = head(sandbox, project, request.path_params["sha"])
    if commit is None:
        raise not_found("Commit")
    return JSONResponse(commit_json(sandbox, project, commit))


# --- writing: one commit per call ---------------------------------------------------------------


def _content(params: Params) -> bytes:
    text = params.raw("content")
    if text is None:
        raise missing("content")
    encoding = params.str("encoding", "text")
    if encoding == "text":
        return str(text).encode("utf-8")
    if encoding != "base64":
        raise ApiError(400, {"error": "encoding does not have a valid value"})
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("content is not valid base64") from None


def _writable_branch(request: Request, params: Params) -> tuple[Sandbox, User, Project, str]:
    sandbox, user, project = _readable_project(request)
    branch = params.required("branch")
    params.required("commit_message")
    if branch != DEFAULT_BRANCH:
        raise bad_request("You can only create or edit files when you are on a branch")
    try:
        require_level(sandbox.store, user, project, MAINTAINER)
    except ApiError:
        raise forbidden("You are not allowed to push into this branch") from None
    return sandbox, user, project, branch


def commit_change(
    sandbox: Sandbox,
    project: Project,
    user: User,
    params: Params,
    change: dict[str, bytes | None],
) -> Commit:
    """Record `change` (path -> new content, None to remove) on main and fire the Push Hook."""
    store = sandbox.store
    parent = head(sandbox, project, DEFAULT_BRANCH)
    files = dict(parent.files) if parent else {}
    added: list[str] = []
    modified: list[str] = []
    removed: list[str] = []
    for path, content in change.items():
        if content is None:
            files.pop(path, None)
            removed.append(path)
        else:
            (modified if path in files else added).append(path)
            files[path] = base64.b64encode(content).decode("ascii")
    commit = Commit(
        id=store.new_id("commits"),
        project_id=project.id,
        sha=secrets.token_hex(20),
        parent_sha=parent.sha if parent else None,
        branch=DEFAULT_BRANCH,
        message=params.required("commit_message"),
        author_id=user.id,
        author_name=params.str("author_name") or user.name,
        author_email=params.str("author_email") or user.email,
        created_at=store.now(),
        files=files,
        added=added,
        modified=modified,
        removed=removed,
    )
    store.tables.setdefault("commits", {})[commit.id] = commit
    log.info("commit %s on %s: %s", commit.sha[:8], project.path_with_namespace, commit.title)
    fire_push(sandbox, project, user, parent, commit)
    return commit


async def create_file(request: Request) -> JSONResponse:
    params = await read_params(request)
    sandbox, user, project, branch = _writable_branch(request, params)
    path = request.path_params["file_path"]
    tip = head(sandbox, project, branch)
    if tip is not None and path in tip.files:
        raise bad_request("A file with this name already exists")
    commit_change(sandbox, project, user, params, {path: _content(params)})
    return JSONResponse({"file_path": path, "branch": branch}, status_code=201)


def _existing(sandbox: Sandbox, project: Project, params: Params, path: str) -> Commit:
    """The tip holding `path`, after the `last_commit_id` guard against lost updates."""
    tip = head(sandbox, project, DEFAULT_BRANCH)
    if tip is None or path not in tip.files:
        raise bad_request("A file with this name doesn't exist")
    expected = params.str("last_commit_id")
    if expected and last_commit_touching(sandbox, project, tip, path).sha != expected:
        raise bad_request(
            "You are attempting to update a file that has changed since you started editing it."
        )
    return tip


async def update_file(request: Request) -> JSONResponse:
    params = await read_params(request)
    sandbox, user, project, branch = _writable_branch(request, params)
    path = request.path_params["file_path"]
    _existing(sandbox, project, params, path)
    commit_change(sandbox, project, user, params, {path: _content(params)})
    return JSONResponse({"file_path": path, "branch": branch})


async def delete_file(request: Request) -> Response:
    params = await read_params(request)
    sandbox, user, project, _ = _writable_branch(request, params)
    path = request.path_params["file_path"]
    _existing(sandbox, project, params, path)
    commit_change(sandbox, project, user, params, {path: None})
    return Response(status_code=204)


# --- the Push Hook ------------------------------------------------------------------------------


def push_payload(
    sandbox: Sandbox, project: Project, user: User, before: Commit | None, after: Commit
) -> dict[str, Any]:
    """A Push Hook body as GitLab sends it for one pushed commit."""
    info = project_json(sandbox, project)
    web_url = info["web_url"]
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": before.sha if before else BLANK_SHA,
        "after": after.sha,
        "ref": f"refs/heads/{after.branch}",
        "ref_protected": True,
        "checkout_sha": after.sha,
        "message": None,
        "user_id": user.id,
        "user_name": user.name,
        "user_username": user.username,
        "user_email": "",  # GitLab leaves it empty unless the user made it public
        "user_avatar": None,
        "project_id": project.id,
        "project": {
            "id": project.id,
            "name": project.name,
            "description": project.description,
            "web_url": web_url,
            "avatar_url": None,
            "git_ssh_url": info["ssh_url_to_repo"],
            "git_http_url": info["http_url_to_repo"],
            "namespace": info["namespace"]["name"],
            "visibility_level": VISIBILITY_LEVELS[project.visibility],
            "path_with_namespace": project.path_with_namespace,
            "default_branch": DEFAULT_BRANCH,
            "ci_config_path": None,
            "homepage": web_url,
            "url": info["ssh_url_to_repo"],
            "ssh_url": info["ssh_url_to_repo"],
            "http_url": info["http_url_to_repo"],
        },
        "commits": [
            {
                "id": after.sha,
                "message": after.message,
                "title": after.title,
                "timestamp": after.created_at,
                "url": f"{web_url}/-/commit/{after.sha}",
                "author": {"name": after.author_name, "email": after.author_email},
                "added": after.added,
                "modified": after.modified,
                "removed": after.removed,
            }
        ],
        "total_commits_count": 1,
        "push_options": {},
        "repository": {
            "name": project.name,
            "url": info["ssh_url_to_repo"],
            "description": project.description,
            "homepage": web_url,
            "git_http_url": info["http_url_to_repo"],
            "git_ssh_url": info["ssh_url_to_repo"],
            "visibility_level": VISIBILITY_LEVELS[project.visibility],
        },
    }


def fire_push(sandbox: Sandbox, project: Project, user: User, before: Commit | None, after: Commit) -> None:
    events.deliver(sandbox, project, PUSH_HOOK, push_payload(sandbox, project, user, before, after))


routes = [
    route("/projects/{project_id:seg}/repository/files/{file_path:seg}/raw", get_raw_file),
    route("/projects/{project_id:seg}/repository/files/{file_path:seg}", get_file),
    route("/projects/{project_id:seg}/repository/files/{file_path:seg}", create_file, "POST"),
    route("/projects/{project_id:seg}/repository/files/{file_path:seg}", update_file, "PUT"),
    route("/projects/{project_id:seg}/repository/files/{file_path:seg}", delete_file, "DELETE"),
    route("/projects/{project_id:seg}/repository/commits", list_commits),
    route("/projects/{project_id:seg}/repository/commits/{sha}", get_commit),
]
