"""The settings page's requests: show, preview (a diff of .vorhoelle.yml), save (one commit with
the signed-in person as its author), send a test on one channel, sign in and out.

Every form is a plain POST carrying the session's CSRF token, so the page works without
JavaScript. Checking and writing go through bot/config/project_file.py (`check`, `write`), the
same path as a push or `PUT /api/v1/config`: the same validation, the same trust rule, the same
wording as `config check`.
"""

from __future__ import annotations

import difflib
import logging
import zoneinfo
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.config import project_file
from bot.config.files import ConfigError
from bot.gitlab_access import GitLabError
from bot.render import render
from bot.web.settings_page import fields
from bot.web.settings_page.signin import (
    Person, csrf_ok, csrf_token, oauth_client, person_of, remember, right_of, role_name,
)

log = logging.getLogger(__name__)


def message(title: str, text: str, status: int, *, sign_in: bool = False) -> HTMLResponse:
    """A page with one message (signed out, refused, an error), in the page's own look."""
    return HTMLResponse(render("settings/message.html.j2", title=title, text=text, sign_in=sign_in),
                        status_code=status, headers=_NO_STORE)


# Not cached (it shows who is signed in), not framed by another site (a hidden save button), and
# nothing loaded from elsewhere: the page has no scripts and its style is inline.
_NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


def _redirect_uri(request: Request) -> str:
    public = _runtime(request).settings.public_url
    if public:
        return f"{public.rstrip('/')}/settings/callback"
    return f"{str(request.base_url).rstrip('/')}/settings/callback"


async def login(request: Request) -> Response:
    return await oauth_client(_runtime(request).settings).authorize_redirect(request, _redirect_uri(request))


async def callback(request: Request) -> Response:
    """GitLab sends the browser back here with a code; Authlib checks `state`, trades the code
    and the PKCE verifier for a token, and the token tells us who it is."""
    from authlib.integrations.starlette_client import OAuthError

    client = oauth_client(_runtime(request).settings)
    try:
        token = await client.authorize_access_token(request)
        answer = await client.get("user", token=token)
        answer.raise_for_status()
        person = remember(request, answer.json())
    except OAuthError as error:
        log.warning("settings page: sign-in refused: %s", error.description or error.error)
        return message("Sign-in did not work", "GitLab's answer did not belong to a sign-in started here "
                       f"({error.error}). Please sign in again.", 400, sign_in=True)
    except Exception as error:  # GitLab unreachable or odd: say so, never a traceback
        log.warning("settings page: sign-in failed: %s", error)
        return message("Sign-in did not work", "GitLab could not be asked who you are. Please try again.",
                       502, sign_in=True)
    log.info("settings page: %s signed in", person.shown, extra={"event": "settings_sign_in"})
    return RedirectResponse("/settings", status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if csrf_ok(request, form):
        request.session.clear()
    return RedirectResponse("/settings", status_code=303)


async def _signed_in(request: Request) -> tuple[Person, str, int] | Response:
    """The person and what they may do, or the page to show instead."""
    person = person_of(request)
    if person is None:
        return message("Vorhölle settings", "Sign in with your GitLab account to see the bot's settings.",
                       200 if request.method == "GET" else 401, sign_in=True)
    try:
        right, level = await right_of(request, person)
    except GitLabError as error:
        return message("GitLab did not answer", f"Your role in the project could not be checked ({error}).", 502)
    if right == "none":
        log.info("settings page: %s refused (%s)", person.shown, role_name(level),
                 extra={"event": "settings_refused"})
        return message("No access", f"You are signed in as {person.shown}, whose role in "
                       f"{await _project_path(request)} is {role_name(level)}. The settings are "
                       "shown to reporters and up, and changed by maintainers.", 403)
    return person, right, level


async def _project_path(request: Request) -> str:
    """The project's `namespace/path` (the settings may name it by id)."""
    return (await run_in_threadpool(lambda: _runtime(request).gitlab.project)).path


async def _checked_form(request: Request) -> tuple[Person, Any] | Response:
    """A POST's person and form, when the CSRF token matches and they may change settings."""
    form = await request.form()
    if not csrf_ok(request, form):
        log.warning("settings page: a form without this session's token was refused",
                    extra={"event": "settings_csrf"})
        return message("Form refused", "This form did not come from your settings page (its security "
                       "token is missing or old). Open the page again and repeat the change.", 403)
    found = await _signed_in(request)
    if isinstance(found, Response):
        return found
    person, right, level = found
    if right != "change":
        return message("Not allowed", f"Only maintainers may do this; your role is {role_name(level)}.", 403)
    return person, form


def _items(form: Any) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in form.multi_items() if name not in ("csrf_token", "base")]


async def _project_layer(request: Request) -> tuple[Any, str, str | None]:
    """The project file as parsed (None without one or when broken), its text and last commit."""
    gitlab = _runtime(request).gitlab
    text, commit = await run_in_threadpool(project_file.current_text, gitlab)
    try:
        layer = project_file.parse_project_file(text) if text else None
    except ConfigError:
        layer = None
    return layer, text, commit


async def _render(request: Request, person: Person, right: str, status: int = 200,
                  form: list[tuple[str, str]] | None = None, **extra: Any) -> HTMLResponse:
    runtime = _runtime(request)
    settings = runtime.settings
    layer, _, _ = await _project_layer(request)
    shown = fields.shown(settings, layer)
    body = render(
        "settings/page.html.j2", person=person, right=right, project=await _project_path(request), shown=shown,
        others=fields.others(settings, layer),
        events=fields.events_of(settings), channels=fields.enabled_channels(settings),
        time_zones=time_zones(), csrf=csrf_token(request), form=form or [], typed=dict(form or []),
        label_rows=fields.label_rows(shown["staging.score_labels"].value, dict(form or [])), **extra,
    )
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


async def page(request: Request) -> Response:
    found = await _signed_in(request)
    if isinstance(found, Response):
        return found
    person, right, _ = found
    return await _render(request, person, right)


def _diff(old: str, new: str) -> list[tuple[str, str]]:
    """The unified diff as (kind, line): kind `add`, `del`, `hunk` or `same`."""
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), f"{project_file.PROJECT_FILE} (now)",
                                 f"{project_file.PROJECT_FILE} (after saving)", lineterm="")
    return [(kinds.get(line[:1], "same") if not line.startswith(("+++", "---")) else "file", line)
            for line in lines]


async def _proposal(request: Request, form: Any) -> tuple[dict[str, Any], str, str | None]:
    """The new file's data from the form, the file's text now and its last commit."""
    layer, text, commit = await _project_layer(request)
    data = fields.project_data(_items(form), _runtime(request).settings, layer.data if layer else {})
    return data, text, commit


async def _invalid(request: Request, person: Person, form: Any, error: ConfigError) -> HTMLResponse:
    log.info("settings page: %s's change not saved, invalid: %s", person.shown, "; ".join(error.problems),
             extra={"event": "settings_invalid"})
    at_fields, general = fields.problems_by_field(error.problems)
    return await _render(request, person, "change", 422, form=_items(form), problems=at_fields,
                         general=general)


async def preview(request: Request) -> Response:
    found = await _checked_form(request)
    if isinstance(found, Response):
        return found
    person, form = found
    data, text, commit = await _proposal(request, form)
    try:
        checked = await run_in_threadpool(project_file.check, _runtime(request), data)
    except ConfigError as error:
        return await _invalid(request, person, form, error)
    diff = _diff(text, checked.text)
    return await _render(request, person, "change", form=_items(form), diff=diff, base_shown=commit or "",
                         unchanged=text == checked.text)


async def save(request: Request) -> Response:
    found = await _checked_form(request)
    if isinstance(found, Response):
        return found
    person, form = found
    runtime = _runtime(request)
    data, _, _ = await _proposal(request, form)
    author = project_file.Author(person.shown, via="the settings page", email=person.email)
    try:
        written = await run_in_threadpool(project_file.write, runtime, data, author, str(form.get("base", "")))
    except ConfigError as error:
        return await _invalid(request, person, form, error)
    except project_file.StaleFile:
        return await _render(request, person, "change", 409, form=_items(form), general=[
            f"{project_file.PROJECT_FILE} changed in GitLab since the change was shown; nothing was saved. "
            "Preview it again to see the change against the new file."])
    except GitLabError as error:
        log.warning("settings page: %s could not save: %s", person.shown, error)
        return await _render(request, person, "change", 502, form=_items(form), general=[
            f"GitLab did not take the commit, nothing was saved: {error}"])
    web_url = runtime.gitlab.project.web_url
    link = f"{web_url}/-/commit/{written['commit_id']}" if written.get("commit_id") else None
    return await _render(request, person, "change", saved={"title": written["message"].splitlines()[0],
                                                            "link": link})


async def send_test(request: Request) -> Response:
    found = await _checked_form(request)
    if isinstance(found, Response):
        return found
    person, form = found
    channel = str(form.get("channel", ""))
    notifier = _runtime(request).notifier
    if channel not in fields.CHANNELS or notifier is None:
        return message("No such channel", "The bot has no channel of that name to test.", 400)
    outcomes = await run_in_threadpool(notifier.test, channel)
    results = [{"channel": o.channel, "ok": o.ok, "detail": o.detail} for o in outcomes.values()]
    log.info("settings page: %s sent a test on %s: %s", person.shown, channel,
             ", ".join(f"{r['channel']} {'ok' if r['ok'] else 'FAILED'}" for r in results),
             extra={"event": "settings_notify_test"})
    return await _render(request, person, "change", tested=results)
