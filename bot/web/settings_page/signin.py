"""Signing in with GitLab: OAuth 2 authorization code with PKCE through Authlib, the signed-in
person kept in the session cookie, and what their role in the project lets them do.

The role is asked of GitLab with the bot's own token on every request (not remembered from the
sign-in), so a maintainer demoted a minute ago can no longer save.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bot.config.sections import ACCESS_LEVELS
from bot.config.settings import Settings

log = logging.getLogger(__name__)

SCOPE = "read_user"
Right = Literal["change", "look", "none"]


@dataclass(frozen=True)
class Person:
    """Who signed in, as GitLab's `GET /user` named them."""

    id: int
    username: str
    name: str
    email: str | None

    @property
    def shown(self) -> str:
        return f"{self.name} (@{self.username})"


def oauth_client(settings: Settings) -> Any:
    """Authlib's client for the operator's OAuth application on the configured GitLab."""
    from authlib.integrations.starlette_client import OAuth  # here: only a sign-in needs it

    page = settings.settings_page
    base = (settings.gitlab_url or "").rstrip("/")
    oauth = OAuth()
    return oauth.register(
        "gitlab",
        client_id=page.oauth_client_id,
        client_secret=page.oauth_client_secret.get_secret_value() if page.oauth_client_secret else None,
        authorize_url=f"{base}/oauth/authorize",
        access_token_url=f"{base}/oauth/token",
        api_base_url=f"{base}/api/v4/",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": 30},
    )


def person_of(request: Request, now: Callable[[], float] = time.time) -> Person | None:
    """The signed-in person; None without one, or once the session is older than
    `settings_page.session_hours` (the cookie's own expiry renews with use, this does not)."""
    data = request.session.get("person")
    if not isinstance(data, dict):
        return None
    hours = request.app.state.runtime.settings.settings_page.session_hours
    if now() - float(request.session.get("since", 0)) > hours * 3600:
        request.session.clear()
        return None
    return Person(int(data["id"]), str(data["username"]), str(data["name"]), data.get("email"))


def remember(request: Request, user: dict[str, Any]) -> Person:
    """Start a fresh session for `user` (GitLab's `GET /user` answer), with its CSRF token."""
    person = Person(int(user["id"]), str(user["username"]), str(user.get("name") or user["username"]),
                    user.get("email") or user.get("public_email") or None)
    request.session.clear()
    request.session["person"] = {"id": person.id, "username": person.username, "name": person.name,
                                 "email": person.email}
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["since"] = time.time()
    return person


def csrf_token(request: Request) -> str:
    return str(request.session.get("csrf", ""))


def csrf_ok(request: Request, form: Any) -> bool:
    """The form carries this session's token (a page of ours made it, not another site)."""
    expected, given = csrf_token(request), str(form.get("csrf_token", ""))
    return bool(expected) and hmac.compare_digest(expected, given)


async def right_of(request: Request, person: Person) -> tuple[Right, int]:
    """What the person may do here, from their access level in the project now: maintainers
    and owners change, developers and reporters look, everyone else nothing."""
    gitlab = request.app.state.runtime.gitlab
    level = await run_in_threadpool(gitlab.access_level, person.id)
    if level >= ACCESS_LEVELS["maintainer"]:
        return "change", level
    if level >= ACCESS_LEVELS["reporter"]:
        return "look", level
    return "none", level


def role_name(level: int) -> str:
    names = {value: name for name, value in ACCESS_LEVELS.items()}
    return names.get(level, "no role")
