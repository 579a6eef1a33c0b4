"""The settings page over plain HTTP: sign-in, roles, cookies, CSRF, validation at the field."""

from __future__ import annotations

import re

import httpx

from bot.config.project_file import PROJECT_FILE
from tests.settings_page.conftest import PageBot, form_of, page_settings, register_application, signed_in
from tests.support.botserver import running_bot
from tests.support.world import World


def _commits(world: World) -> list[str]:
    return [c.title for c in world.admin.projects.get(world.project_id).commits.list(all=True)]


def _form(page: str, **changes: str) -> dict[str, list[str]]:
    """The page's own settings form as a browser would send it, with `changes`."""
    form: dict[str, list[str]] = {}
    for name, value in form_of(page, **changes):
        form.setdefault(name, []).append(value)
    return form


def test_no_page_unless_the_operator_configured_the_oauth_application(world: World):
    with running_bot(page_settings(world, {"application_id": "", "secret": ""})) as bot:
        answer = httpx.get(f"{bot.url}/settings/login")
    assert answer.status_code == 404
    assert "not configured" in answer.text


def test_a_maintainer_signs_in_and_sees_the_settings_with_their_sources(page_bot: PageBot):
    page = signed_in(page_bot, "maintainer").get(page_bot.url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "Preview the change" in page.text
    assert 'id="source-notify-quiet_hours">Now from: <strong>default</strong>' in page.text


def test_the_session_cookie_is_signed_httponly_lax_and_expires(page_bot: PageBot):
    answer = httpx.get(f"{page_bot.url}/login")  # the sign-in's state is kept in the session
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 302
    assert cookie.startswith("vorhoelle_settings=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "max-age=28800" in cookie.lower()
    assert "secure" not in cookie.lower()  # served over plain HTTP here


def test_the_session_cookie_is_secure_when_the_bot_is_served_over_https(world: World):
    application = register_application(world, "https://bot.example/settings/callback")
    with running_bot(page_settings(world, application, public_url="https://bot.example")) as bot:
        answer = httpx.get(f"{bot.url}/settings/login")
    assert "; secure" in answer.headers["set-cookie"].lower()
    assert "redirect_uri=https%3A%2F%2Fbot.example%2Fsettings%2Fcallback" in answer.headers["location"]


def test_the_sign_in_uses_pkce_and_a_state(page_bot: PageBot):
    location = httpx.get(f"{page_bot.url}/login").headers["location"]
    assert location.startswith(f"{page_bot.world.url}/oauth/authorize?")
    assert "code_challenge_method=S256" in location
    assert re.search(r"[?&]state=[^&]{16,}", location)
    assert "scope=read_user" in location


def test_a_callback_whose_state_this_browser_did_not_start_is_refused(page_bot: PageBot):
    browser = httpx.Client(timeout=30)
    browser.get(f"{page_bot.url}/login")
    answer = browser.get(f"{page_bot.url}/callback", params={"code": "stolen", "state": "forged"})
    assert answer.status_code == 400
    assert "Sign-in did not work" in answer.text
    assert "Sign in with GitLab" in browser.get(page_bot.url).text  # not signed in


def test_a_guest_is_refused_with_a_clear_page(page_bot: PageBot):
    answer = signed_in(page_bot, "guest").get(page_bot.url)
    assert answer.status_code == 403
    assert "whose role in" in answer.text and "is guest" in answer.text


def test_a_reporter_looks_and_may_not_save(page_bot: PageBot):
    browser = signed_in(page_bot, "reporter")
    page = browser.get(page_bot.url).text
    assert "Read only" in page and "Preview the change" not in page
    answer = browser.post(f"{page_bot.url}/save", data=_form(page, threshold="80"))
    assert answer.status_code == 403
    assert "Only maintainers" in answer.text
    assert not any(PROJECT_FILE in title or "Vorhölle settings" in title for title in _commits(page_bot.world))


def test_a_form_without_the_session_token_is_refused_and_nothing_committed(page_bot: PageBot):
    browser = signed_in(page_bot, "maintainer")
    form = _form(browser.get(page_bot.url).text, threshold="80")
    del form["csrf_token"]
    assert form
    answer = browser.post(f"{page_bot.url}/save", data=form)
    assert answer.status_code == 403
    assert "Form refused" in answer.text
    forged = browser.post(f"{page_bot.url}/save", data={**form, "csrf_token": ["guessed"]})
    assert forged.status_code == 403
    assert not any("Vorhölle settings" in title for title in _commits(page_bot.world))


def test_a_value_config_check_rejects_is_shown_at_its_field_and_never_committed(page_bot: PageBot):
    browser = signed_in(page_bot, "maintainer")
    form = _form(browser.get(page_bot.url).text, emoji_approve="thumbs up")
    for step in ("preview", "save"):
        answer = browser.post(f"{page_bot.url}/{step}", data=form)
        assert answer.status_code == 422
        at_field = re.search(r'id="problem-workflow-emoji-1">([^<]*)<', answer.text)
        assert at_field, answer.text
        assert "is not an emoji name" in at_field.group(1)
        assert 'value="thumbs up"' in answer.text  # what was typed stays for correcting
    assert not any("Vorhölle settings" in title for title in _commits(page_bot.world))


def test_saving_commits_as_the_signed_in_person_and_the_bot_applies_it(page_bot: PageBot, caplog):
    caplog.set_level("INFO", logger="bot")
    browser = signed_in(page_bot, "maintainer")
    form = _form(browser.get(page_bot.url).text, threshold="85")
    preview = browser.post(f"{page_bot.url}/preview", data=form)
    assert preview.status_code == 200
    assert "+staging:" in preview.text and "+  threshold: 85" in preview.text
    saved = browser.post(f"{page_bot.url}/save", data={**form, "base": [""]})
    assert saved.status_code == 200, saved.text
    link = re.search(r'href="([^"]+/-/commit/([0-9a-f]+))" id="commit-link"', saved.text)
    assert link
    commit = page_bot.world.admin.projects.get(page_bot.world.project_id).commits.get(link.group(2))
    maintainer = page_bot.world.users["maintainer"]
    assert commit.author_email == f"{maintainer['username']}@example.com"
    assert commit.title == "Vorhölle settings: change staging.threshold"
    assert "through the settings page by Maintainer" in commit.message
    assert page_bot.bot.runtime.settings.staging.threshold == 85
    assert 'id="source-staging-threshold">Now from: <strong>project file</strong>' in saved.text
    logged = [r.getMessage() for r in caplog.records if getattr(r, "event", None) == "config_write"]
    assert logged and "by Maintainer" in logged[0] and "through the settings page" in logged[0]


def test_config_check_says_when_the_settings_page_is_half_configured():
    from bot.config.check import check_deployment
    from bot.config.settings import load_settings

    half = load_settings(gitlab_url="http://gitlab.example", project="a/b",
                         settings_page={"oauth_client_id": "id", "session_secret": "s" * 32})
    assert any("settings_page.oauth_client_secret not set" in str(f) for f in check_deployment(half))
    whole = load_settings(gitlab_url="http://gitlab.example", project="a/b", public_url="https://bot.example",
                          settings_page={"oauth_client_id": "id", "oauth_client_secret": "x", "session_secret": "s"})
    assert any("https://bot.example/settings/callback" in str(f) for f in check_deployment(whole))


def _session_cookie(session: dict, secret: str | None = None) -> str:
    """A session cookie as the bot's SessionMiddleware signs it (the tests know the secret)."""
    import base64
    import json

    from itsdangerous import TimestampSigner

    from tests.settings_page.conftest import SESSION_SECRET

    return TimestampSigner(secret or SESSION_SECRET).sign(base64.b64encode(json.dumps(session).encode())).decode()


def test_a_session_older_than_session_hours_or_signed_with_another_secret_is_signed_out(page_bot: PageBot):
    import time

    maintainer = page_bot.world.users["maintainer"]
    person = {"id": maintainer["id"], "username": maintainer["username"], "name": "M", "email": None}
    for since, signed_in_still in ((time.time(), True), (time.time() - 9 * 3600, False)):
        cookies = {"vorhoelle_settings": _session_cookie({"person": person, "csrf": "t", "since": since})}
        page = httpx.get(page_bot.url, cookies=cookies).text
        assert ("Preview the change" in page) is signed_in_still
        assert ("Sign in with GitLab" in page) is not signed_in_still
    forged = _session_cookie({"person": person, "csrf": "t", "since": time.time()}, secret="another-secret")
    assert "Sign in with GitLab" in httpx.get(page_bot.url, cookies={"vorhoelle_settings": forged}).text


def test_gitlab_failing_is_a_page_saying_so_not_a_traceback(page_bot: PageBot, sandbox):
    from bot.sandbox.control.client import SandboxControl

    browser = signed_in(page_bot, "maintainer")
    control = SandboxControl(sandbox.url, sandbox.root_token)
    control.faults(error_rate=1.0, statuses={"503": 1}, paths=["/api/v4/projects/*/repository/files/*"])
    try:
        answer = browser.get(page_bot.url)
    finally:
        control.faults()
    assert answer.status_code == 502
    assert "GitLab did not answer" in answer.text and "Traceback" not in answer.text


def test_send_a_test_runs_notify_test_on_that_channel_and_shows_the_result(page_bot: PageBot, tmp_path):
    browser = signed_in(page_bot, "maintainer")
    token = form_of(browser.get(page_bot.url).text, "test-console-form")
    answer = browser.post(f"{page_bot.url}/test", data=dict(token))
    assert answer.status_code == 200
    assert re.search(r'id="tested">.*<strong>console</strong>: delivered', answer.text, re.S)
    assert "Test message" in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8")
