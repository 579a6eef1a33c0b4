"""A served bot with the settings page on, its OAuth application registered in the sandbox
GitLab (as an administrator registers one on GitLab), and people signing in over plain HTTP.

The bot needs maintainer access (it commits `.vorhoelle.yml` to the protected default branch).
"""

from __future__ import annotations

import socket
from html.parser import HTMLParser
from collections.abc import Iterator
from pathlib import Path
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.botserver import RunningBot, install_hook_for, running_bot, served_bot_settings
from tests.support.world import World, new_world

SESSION_SECRET = "made-up-session-secret-for-tests"


def free_port() -> int:
    """A port for the bot, known before it starts: the OAuth application names its callback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def register_application(world: World, callback: str) -> dict[str, Any]:
    answer = httpx.post(f"{world.url}/api/v4/applications", headers={"PRIVATE-TOKEN": world.admin.private_token},
                        data={"name": "Vorhölle settings", "redirect_uri": callback, "scopes": "read_user"})
    answer.raise_for_status()
    return answer.json()


@dataclass
class PageBot:
    bot: RunningBot
    world: World
    application: dict[str, Any]

    @property
    def url(self) -> str:
        return f"{self.bot.url}/settings"


def page_settings(world: World, application: dict[str, Any], **over: Any) -> Any:
    return served_bot_settings(world, settings_page={
        "oauth_client_id": application["application_id"], "oauth_client_secret": application["secret"],
        "session_secret": SESSION_SECRET}, **over)


@pytest.fixture
def world(sandbox) -> World:
    return new_world(sandbox, bot_access=40)


@pytest.fixture
def page_bot(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PageBot]:
    # The console channel's outbox where the test can read it (and not in the working directory);
    # through the environment, as an operator would, so that notify's other settings stay defaults.
    monkeypatch.setenv("VORHOELLE_NOTIFY__CHANNELS__CONSOLE__OUTBOX", str(tmp_path / "outbox.jsonl"))
    port = free_port()
    application = register_application(world, f"http://127.0.0.1:{port}/settings/callback")
    with running_bot(page_settings(world, application), port=port) as bot:
        install_hook_for(bot, world)
        yield PageBot(bot, world, application)


def gitlab_sign_in(browser: httpx.Client, world: World, role: str) -> None:
    """Sign in to the sandbox GitLab itself (its session cookie), as a person would first."""
    user = world.users[role]
    answer = browser.post(f"{world.url}/users/sign_in", data={"username": user["username"], "token": user["token"]},
                          follow_redirects=False)
    assert answer.status_code == 302, answer.text


def signed_in(page: PageBot, role: str) -> httpx.Client:
    """An HTTP client that went through the whole sign-in, as a browser does, as `role`."""
    browser = httpx.Client(follow_redirects=True, timeout=30)
    gitlab_sign_in(browser, page.world, role)
    answer = browser.get(f"{page.url}/login")
    assert answer.url.path == "/settings", answer.text
    return browser


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


class _FormReader(HTMLParser):
    """The fields a browser would submit from the form with `form_id`, unchanged."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.items: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag == "input" and "name" in a:
            if a.get("type") != "checkbox" or "checked" in a:
                self.items.append((a["name"], a.get("value", "on") or ("on" if a.get("type") == "checkbox" else "")))
        elif self.inside and tag == "select":
            self.select = a.get("name")
        elif self.inside and tag == "option" and self.select and "selected" in a:
            self.options_selected = True
            self.pending = self.select

    def handle_data(self, data: str) -> None:
        if getattr(self, "pending", None):
            self.items.append((self.pending, data))
            self.pending = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_of(html: str, form_id: str = "settings", **changes: str) -> list[tuple[str, str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    items = [(name, changes.get(name, value)) for name, value in reader.items]
    return items + [(name, value) for name, value in changes.items() if name not in dict(items)]
