"""GET /settings: the project's settings in the browser, for people signed in with GitLab.

There is no page at all (404) unless the operator configured `settings_page` (the OAuth
application's id and secret, and a session secret). The page's requests run in an app of their
own behind Starlette's SessionMiddleware: the session lives in a cookie signed with
`settings_page.session_secret`, HttpOnly, SameSite=Lax, Secure when `public_url` is https,
and it expires after `settings_page.session_hours`.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.gitlab_access import GitLabError
from bot.web.settings_page import views

log = logging.getLogger(__name__)

COOKIE = "vorhoelle_settings"
_APP = "settings_page_app"


def _page_app(runtime: Any) -> Starlette:
    page = runtime.settings.settings_page
    app = Starlette(
        routes=[
            Route("/settings", views.page, name="page"),
            Route("/settings/login", views.login, name="login"),
            Route("/settings/callback", views.callback, name="callback"),
            Route("/settings/logout", views.logout, methods=["POST"]),
            Route("/settings/preview", views.preview, methods=["POST"]),
            Route("/settings/save", views.save, methods=["POST"]),
            Route("/settings/test", views.send_test, methods=["POST"]),
        ],
        middleware=[Middleware(
            SessionMiddleware, secret_key=page.session_secret.get_secret_value(), session_cookie=COOKIE,
            max_age=int(page.session_hours * 3600), same_site="lax",
            https_only=(runtime.settings.public_url or "").startswith("https://"),
        )],
        # Starlette types the mapping by its widest handler; each one here takes its own class.
        exception_handlers={HTTPException: _http_error, GitLabError: _gitlab_error},  # type: ignore[dict-item]
    )
    app.state.runtime = runtime
    return app


async def _gitlab_error(request: Request, error: Exception) -> Response:
    """GitLab failing mid-request (after its retries) is a page saying so, never a traceback."""
    log.warning("settings page: GitLab failed during %s %s: %s", request.method, request.url.path, error)
    return views.message("GitLab did not answer", f"Nothing was changed. Try again in a moment ({error}).", 502)


async def _http_error(request: Request, error: HTTPException) -> Response:
    return views.message("Not here", str(error.detail), error.status_code)


class SettingsPage:
    """ASGI: hand the request to the page's app, made on first use; 404 while the page is off.
    (A class, since Starlette would treat a plain function as a request handler.)"""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        bot = scope["app"]
        runtime = bot.state.runtime
        if not runtime.settings.settings_page.enabled:
            answer = views.message("Not Found", "The settings page is not configured on this bot.", 404)
            await answer(scope, receive, send)
            return
        if getattr(bot.state, _APP, None) is None:
            setattr(bot.state, _APP, _page_app(runtime))
        await getattr(bot.state, _APP)(scope, receive, send)


def routes() -> list[BaseRoute]:
    page = SettingsPage()
    return [Route("/settings", page), Route("/settings/{rest:path}", page)]
