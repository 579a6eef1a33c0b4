"""GitLab as an OAuth 2 provider, far enough for a web app to sign people in as on GitLab.

- `POST /api/v4/applications` (administrators): register an application; answers
  `application_id` and `secret` once, as GitLab does.
- `GET /oauth/authorize`: the authorization-code grant. GitLab shows its sign-in page to a
  browser without a session; the sandbox has no passwords, so its sign-in page
  (`/users/sign_in`) takes a username and one of that user's personal access tokens and sets
  the session cookie. A signed-in browser is sent straight back to the `redirect_uri` with
  `code` and `state` (as for an application the instance trusts: no consent screen).
- `POST /oauth/token`: code for an access token; client id and secret in the body or as HTTP
  Basic; with PKCE (`code_challenge` at authorize) the `code_verifier` must match (S256 or plain).
  A code works once and for ten minutes.
- `GET /oauth/userinfo`: the OpenID Connect claims of the token's user.
The access token is an ordinary sandbox token of that user, so `GET /api/v4/user` with
`Authorization: Bearer` answers as on GitLab.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from html import escape as html_text
from bot.sandbox.auth import current_user, require_admin
from bot.sandbox.context import Sandbox, sandbox_of
from bot.sandbox.errors import missing
from bot.sandbox.params import read_params
from bot.sandbox.routes_users import create_token
from bot.sandbox.routing import route
from bot.sandbox.store import User

SESSION_COOKIE = "_gitlab_session"
CODE_SECONDS = 600
TOKEN_SECONDS = 7200


@dataclass
class Application:
    uid: str
    secret: str
    name: str
    redirect_uris: list[str]
    scopes: list[str]


@dataclass
class Grant:
    user_id: int
    uid: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    method: str
    issued: float


@dataclass
class OAuthState:
    applications: dict[str, Application] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)  # browser session -> user id


def oauth_of(sandbox: Sandbox) -> OAuthState:
    return sandbox.extras.setdefault("oauth", OAuthState())


def register_application(sandbox: Sandbox, name: str, redirect_uri: str, scopes: list[str]) -> Application:
    app = Application(uid=secrets.token_hex(32), secret="gloas-" + secrets.token_hex(32), name=name,
                      redirect_uris=redirect_uri.split(), scopes=scopes)
    oauth_of(sandbox).applications[app.uid] = app
    return app


async def create_application(request: Request) -> JSONResponse:
    require_admin(current_user(request))
    params = await read_params(request)
    name, redirect_uri, scopes = params.str("name"), params.str("redirect_uri"), params.str("scopes")
    if not name:
        raise missing("name")
    if not redirect_uri:
        raise missing("redirect_uri")
    if not scopes:
        raise missing("scopes")
    app = register_application(sandbox_of(request), name, redirect_uri, scopes.split())
    return JSONResponse({"id": len(oauth_of(sandbox_of(request)).applications), "application_id": app.uid,
                         "application_name": app.name, "secret": app.secret,
                         "callback_url": redirect_uri, "confidential": True}, status_code=201)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>{html_text(title)}</title>"
                        f"<h1>{html_text(title)}</h1>{body}</html>", status_code=status)


def _session_user(request: Request) -> User | None:
    user_id = oauth_of(sandbox_of(request)).sessions.get(request.cookies.get(SESSION_COOKIE, ""))
    user = sandbox_of(request).store.get("users", user_id) if user_id else None
    return user if user is not None and user.state == "active" else None


async def authorize(request: Request) -> Response:
    q = request.query_params
    app = oauth_of(sandbox_of(request)).applications.get(q.get("client_id", ""))
    if app is None or q.get("redirect_uri") not in app.redirect_uris:
        # GitLab does not redirect to an unregistered URI: it shows the error itself.
        return _page("An error has occurred", "<p>Client authentication failed due to unknown client, "
                     "no client authentication included, or unsupported authentication method.</p>", 401)
    back = q["redirect_uri"]
    if q.get("response_type") != "code":
        return _redirect_with(back, error="unsupported_response_type", state=q.get("state"))
    scopes = q.get("scope", "").split() or app.scopes
    if any(scope not in app.scopes for scope in scopes):
        return _redirect_with(back, error="invalid_scope", state=q.get("state"))
    method = q.get("code_challenge_method", "plain")
    if q.get("code_challenge") and method not in ("S256", "plain"):
        return _redirect_with(back, error="invalid_request", state=q.get("state"))
    user = _session_user(request)
    if user is None:
        here = request.url.path + "?" + request.url.query
        return RedirectResponse("/users/sign_in?" + urlencode({"redirect_to": here}), status_code=302)
    code = secrets.token_hex(32)
    oauth_of(sandbox_of(request)).grants[code] = Grant(
        user.id, app.uid, back, scopes, q.get("code_challenge"), method, time.monotonic())
    return _redirect_with(back, code=code, state=q.get("state"))


def _redirect_with(uri: str, **params: str | None) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


def _local(path: str) -> str:
    """Only a path on this host is followed after sign-in (no open redirect)."""
    parts = urlsplit(path)
    return path if path.startswith("/") and not path.startswith("//") and not parts.netloc else "/"


async def sign_in_form(request: Request) -> Response:
    target = html_text(_local(request.query_params.get("redirect_to", "/")))
    return _page("Sign in to the sandbox GitLab", f"""
<form method=post action=/users/sign_in>
<input type=hidden name=redirect_to value="{target}">
<p><label for=username>Username</label> <input id=username name=username autocomplete=username required>
<p><label for=token>Personal access token</label> <input id=token name=token type=password required>
<p><button type=submit>Sign in</button>
</form>""")


async def sign_in(request: Request) -> Response:
    form = await request.form()
    sandbox = sandbox_of(request)
    user = sandbox.store.user_by_username(str(form.get("username", "")))
    token = str(form.get("token", ""))
    owner = sandbox.store.user_by_token(token) if token else None
    if user is None or owner is None or owner.id != user.id or user.state != "active":
        return _page("Sign in to the sandbox GitLab", "<p role=alert>Invalid login or token.</p>", 401)
    session = secrets.token_urlsafe(32)
    oauth_of(sandbox).sessions[session] = user.id
    answer = RedirectResponse(_local(str(form.get("redirect_to", "/"))), status_code=302)
    answer.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax")
    return answer


def _client(request: Request, form: Any) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            uid, _, secret = base64.b64decode(value).decode().partition(":")
            return uid, secret
        except (ValueError, UnicodeDecodeError):
            return "", ""
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _verifier_matches(grant: Grant, verifier: str) -> bool:
    if grant.challenge is None:
        return True
    if grant.method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(verifier, grant.challenge)


async def token(request: Request) -> JSONResponse:
    form = await request.form()
    state = oauth_of(sandbox_of(request))
    uid, secret = _client(request, form)
    app = state.applications.get(uid)
    if app is None or not hmac.compare_digest(secret, app.secret):
        return _token_error("invalid_client", "Client authentication failed due to unknown client, no client "
                            "authentication included, or unsupported authentication method.", 401)
    if form.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type", "The authorization grant type is not supported by the "
                            "authorization server.")
    grant = state.grants.pop(str(form.get("code", "")), None)
    invalid_grant = ("The provided authorization grant is invalid, expired, revoked, does not match the "
                     "redirection URI used in the authorization request, or was issued to another client.")
    if (grant is None or grant.uid != uid or grant.redirect_uri != form.get("redirect_uri")
            or time.monotonic() - grant.issued > CODE_SECONDS):
        return _token_error("invalid_grant", invalid_grant)
    if not _verifier_matches(grant, str(form.get("code_verifier", ""))):
        return _token_error("invalid_grant", invalid_grant)
    user = sandbox_of(request).store.require("users", grant.user_id)
    record = create_token(sandbox_of(request), user, f"oauth:{app.name}", grant.scopes)
    return JSONResponse({"access_token": record.token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                         "refresh_token": secrets.token_hex(32), "scope": " ".join(grant.scopes),
                         "created_at": int(time.time())})


async def userinfo(request: Request) -> JSONResponse:
    user = current_user(request)
    return JSONResponse({"sub": str(user.id), "name": user.name, "nickname": user.username,
                         "preferred_username": user.username, "email": user.email,
                         "profile": sandbox_of(request).web_url(user.username)})


routes = [route("/applications", create_application, "POST")]
web_routes = [
    route("/oauth/authorize", authorize),
    route("/oauth/token", token, "POST"),
    route("/oauth/userinfo", userinfo),
    route("/users/sign_in", sign_in_form),
    route("/users/sign_in", sign_in, "POST"),
]
