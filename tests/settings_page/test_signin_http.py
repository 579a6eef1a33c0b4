"""The settings page over plain HTTP: sign-in, roles, cookies, CSRF, validation at the field."""

from __future__ import annotations

import httpx

from bot.config.project_file import PROJECT_FILE
from tests.settings_page.conftest import PageBot, csrf_of, signed_in


def test_a_maintainer_signs_in_and_sees_the_settings_with_their_sources(page_bot: PageBot):
    browser = signed_in(page_bot, "maintainer")
    page = browser.get(page_bot.url)
    assert page.status_code == 200
    assert "Preview the change" in page.text
    assert 'id="source-notify-quiet_hours">Now from: <strong>default</strong>' in page.text
