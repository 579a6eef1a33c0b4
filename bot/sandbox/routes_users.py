"""Users and their personal access tokens: `/user`, `/users`, block, tokens (admin only)."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.sandbox.auth import current_user, require_admin, token_of
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import conflict, invalid, not_found
from bot.sandbox.pagination import paginate
from bot.sandbox.params import read_params
from bot.sandbox.routing import record_id, route
from bot.sandbox.store import Token, User, new_token
from bot.sandbox.views import user_full

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def create_user(
    sandbox: Sandbox, username: str, name: str, email: str, *, is_admin: bool = False
) -> User:
    store = sandbox.store
    if store.user_by_username(username):
        raise conflict("Username has already been taken")
    if any(u.email.lower() == email.lower() for u in store.all("users")):
        raise conflict("Email has already been taken")
    user = User(
        id=store.new_id("users"),
        username=username,
        name=name,
        email=email,
        created_at=store.now(),
        is_admin=is_admin,
    )
    log.info("user %s (id %s) created", username, user.id)
    return store.add("users", user)


def create_token(
    sandbox: Sandbox, user: User, name: str, scopes: list[str], token: str | None = None
) -> Token:
    store = sandbox.store
    record = Token(
        id=store.new_id("tokens"),
        user_id=user.id,
        token=token or new_token(),
        name=name,
        created_at=store.now(),
        scopes=scopes,
    )
    return store.add("tokens", record)


def _user(sandbox: Sandbox, user_id: str) -> User:
    user = sandbox.store.get("users", record_id(user_id))
    if user is None:
        raise not_found("User")
    return user


async def get_me(request: Request) -> JSONResponse:
    user = current_user(request)
    return JSONResponse(user_full(sandbox_of(request), user, private=True))


async def list_users(request: Request) -> JSONResponse:
    caller = current_user(request)
    sandbox = sandbox_of(request)
    params = await read_params(request)
    users = sandbox.store.all("users")
    if username := params.str("username"):
        users = [u for u in users if u.username.lower() == username.lower()]
    if search := params.str("search"):
        # As GitLab's User.search: name or username in part, the public e-mail exactly, and the
        # private e-mail exactly only for an admin.
        wanted = search.lower().removeprefix("@")
        users = [
            u
            for u in users
            if wanted in u.username.lower() or wanted in u.name.lower()
            or wanted == (u.public_email or "").lower() or (caller.is_admin and wanted == u.email.lower())
        ]
    if params.bool("blocked"):
        users = [u for u in users if u.state == "blocked"]
    if params.bool("active"):
        users = [u for u in users if u.state == "active"]
    return paginate(
        request,
        params,
        users,
        lambda u: user_full(sandbox, u, private=caller.is_admin or caller.id == u.id),
    )


async def post_user(request: Request) -> JSONResponse:
    require_admin(current_user(request))
    sandbox = sandbox_of(request)
    params = await read_params(request)
    username = params.required("username")
    if not _USERNAME.match(username):
        raise invalid("username")
    user = create_user(
        sandbox,
        username,
        params.required("name"),
        params.required("email"),
        is_admin=bool(params.bool("admin", False)),
    )
    user.public_email = params.str("public_email") or None
    return JSONResponse(user_full(sandbox, user, private=True), status_code=201)


async def put_user(request: Request) -> JSONResponse:
    """`PUT /users/:id` (admin): the profile fields the sandbox keeps, `name` and `public_email`."""
    require_admin(current_user(request))
    sandbox = sandbox_of(request)
    user = _user(sandbox, request.path_params["user_id"])
    params = await read_params(request)
    if (name := params.str("name")) is not None:
        user.name = name
    if (public_email := params.str("public_email")) is not None:
        user.public_email = public_email or None
    return JSONResponse(user_full(sandbox, user, private=True))


async def get_user(request: Request) -> JSONResponse:
    caller = current_user(request)
    sandbox = sandbox_of(request)
    user = _user(sandbox, request.path_params["user_id"])
    private = caller.is_admin or caller.id == user.id
    return JSONResponse(user_full(sandbox, user, private=private))


async def delete_user(request: Request) -> Response:
    require_admin(current_user(request))
    sandbox = sandbox_of(request)
    store = sandbox.store
    user = _user(sandbox, request.path_params["user_id"])
    for table in ("tokens", "members", "todos"):
        for record in store.all(table):
            if record.user_id == user.id:
                store.delete(table, record.id)
    for issue in store.all("issues"):
        if user.id in issue.assignee_ids:
            issue.assignee_ids.remove(user.id)
    # GitLab keeps the user's contributions under a "ghost" user; the sandbox keeps the record
    # blocked so that authors of old issues and notes still render.
    user.state = "blocked"
    user.username = f"ghost-{user.id}-{user.username}"
    log.info("user %s deleted", user.id)
    return Response(status_code=204)


async def set_blocked(request: Request) -> JSONResponse:
    require_admin(current_user(request))
    user = _user(sandbox_of(request), request.path_params["user_id"])
    user.state = "blocked" if request.url.path.endswith("/block") else "active"
    log.info("user %s is now %s", user.username, user.state)
    return JSONResponse(True, status_code=201)


async def post_token(request: Request) -> JSONResponse:
    require_admin(current_user(request))
    sandbox = sandbox_of(request)
    user = _user(sandbox, request.path_params["user_id"])
    params = await read_params(request)
    name = params.required("name")
    scopes = params.list("scopes")
    if not scopes:
        raise invalid("scopes")
    token = create_token(sandbox, user, name, scopes)
    token.expires_at = params.str("expires_at")
    return JSONResponse(token_json(token) | {"token": token.token}, status_code=201)


def token_json(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "revoked": False,
        "created_at": token.created_at,
        "scopes": token.scopes,
        "user_id": token.user_id,
        "last_used_at": None,
        "active": True,
        "expires_at": token.expires_at,
    }


async def get_own_token(request: Request) -> JSONResponse:
    """`GET /personal_access_tokens/self`: the calling token's record (never its value)."""
    user = current_user(request)
    given = token_of(request)
    token = next(t for t in sandbox_of(request).store.all("tokens") if t.user_id == user.id and t.token == given)
    return JSONResponse(token_json(token))


routes = [
    route("/user", get_me),
    route("/personal_access_tokens/self", get_own_token),
    route("/users", list_users),
    route("/users", post_user, "POST"),
    route("/users/{user_id:seg}", get_user),
    route("/users/{user_id:seg}", put_user, "PUT"),
    route("/users/{user_id:seg}", delete_user, "DELETE"),
    route("/users/{user_id:seg}/block", set_blocked, "POST"),
    route("/users/{user_id:seg}/unblock", set_blocked, "POST"),
    route("/users/{user_id:seg}/personal_access_tokens", post_token, "POST"),
]
