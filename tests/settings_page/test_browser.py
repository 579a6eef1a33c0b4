"""The settings page in a real browser: Debian's Chromium driven by Selenium through
chromium-driver, against the sandbox GitLab and a served bot. Screenshots at desktop and phone
width go to test-artifacts/ for a person to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.settings_page.conftest import PageBot
from tests.support.waiting import wait_until

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMEDRIVER is None or CHROMIUM is None,
    reason="no chromium and chromium-driver on PATH (Debian: apt-get install -y chromium chromium-driver)",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP, PHONE = (1280, 900), (390, 844)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_window_size(*DESKTOP)
    driver.implicitly_wait(15)  # a click that submits returns before the next page is there
    yield driver
    driver.quit()


def sign_in(browser: webdriver.Chrome, page: PageBot, role: str) -> None:
    """Open the page, follow "Sign in with GitLab", sign in on the sandbox GitLab's page."""
    user = page.world.users[role]
    browser.get(page.url)
    browser.find_element(By.LINK_TEXT, "Sign in with GitLab").click()
    browser.find_element(By.ID, "username").send_keys(user["username"])
    browser.find_element(By.ID, "token").send_keys(user["token"])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/settings" in browser.current_url and "Vorhölle settings" in browser.title or
               "No access" in browser.page_source, message="the sign-in to come back to the page")


def screenshot(browser: webdriver.Chrome, name: str) -> None:
    """The whole page at desktop and at phone width."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        browser.set_window_size(width, height)
        full = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, max(height, min(full + 120, 8000)))
        assert browser.get_screenshot_as_file(str(ARTIFACTS / f"settings-{name}-{label}.png"))
    browser.set_window_size(*DESKTOP)


def absent(browser: webdriver.Chrome, element_id: str) -> bool:
    """No such element on the page shown now (asked without the implicit wait)."""
    browser.implicitly_wait(0)
    try:
        return not browser.find_elements(By.ID, element_id)
    finally:
        browser.implicitly_wait(15)


def heading(browser: webdriver.Chrome, text: str) -> None:
    """Wait until the page shown (after a click that navigates) has `text` as its heading."""
    wait_until(lambda: any(h.text == text for h in browser.find_elements(By.TAG_NAME, "h1")),
               message=f"a page headed {text!r}")


def set_time(browser: webdriver.Chrome, field: str, value: str) -> None:
    """A time picker takes typed digits in the browser's locale; set it as a script would."""
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value)


def test_a_maintainer_changes_quiet_hours_sees_the_diff_and_saves(browser, page_bot: PageBot):
    sign_in(browser, page_bot, "maintainer")
    screenshot(browser, "maintainer")
    quiet = browser.find_element(By.ID, "quiet_enabled")
    if not quiet.is_selected():
        quiet.click()
    set_time(browser, "quiet_start", "21:30")
    set_time(browser, "quiet_end", "06:45")
    Select(browser.find_element(By.ID, "quiet_timezone")).select_by_visible_text("Europe/Berlin")
    browser.find_element(By.ID, "preview-button").click()
    diff = browser.find_element(By.CSS_SELECTOR, "pre.diff").text
    assert "+  quiet_hours:" in diff and "+    start: '21:30'" in diff and "+    timezone: Europe/Berlin" in diff
    screenshot(browser, "preview")
    browser.find_element(By.ID, "save").click()
    link = browser.find_element(By.ID, "commit-link").get_attribute("href")
    screenshot(browser, "saved")
    project = page_bot.world.admin.projects.get(page_bot.world.project_id)
    commit = project.commits.get(link.rsplit("/", 1)[1])
    assert commit.title == "Vorhölle settings: change notify.quiet_hours"
    assert commit.author_name.startswith("Maintainer")
    quiet_hours = page_bot.bot.runtime.settings.notify.quiet_hours
    assert (quiet_hours.start, quiet_hours.end, quiet_hours.timezone) == ("21:30", "06:45", "Europe/Berlin")
    assert "project file" in browser.find_element(By.ID, "source-notify-quiet_hours").text


def test_a_developer_finds_the_form_read_only(browser, page_bot: PageBot):
    sign_in(browser, page_bot, "reviewer")  # the world's reviewer is a developer
    assert "Read only" in browser.page_source
    assert not browser.find_element(By.ID, "threshold").is_enabled()
    assert absent(browser, "preview-button")
    screenshot(browser, "developer")


def test_a_guest_is_refused(browser, page_bot: PageBot):
    sign_in(browser, page_bot, "guest")
    heading(browser, "No access")
    screenshot(browser, "guest")


def test_a_rejected_value_is_shown_at_its_field_and_never_committed(browser, page_bot: PageBot):
    sign_in(browser, page_bot, "maintainer")
    field = browser.find_element(By.ID, "emoji_approve")
    field.clear()
    field.send_keys("thumbs up")
    browser.find_element(By.ID, "preview-button").click()
    problem = browser.find_element(By.CSS_SELECTOR, "#emoji .problem")
    assert "is not an emoji name" in problem.text
    assert browser.find_element(By.ID, "emoji_approve").get_attribute("value") == "thumbs up"
    assert absent(browser, "save")
    screenshot(browser, "invalid")
    titles = [c.title for c in page_bot.world.admin.projects.get(page_bot.world.project_id).commits.list(all=True)]
    assert not any("Vorhölle settings" in title for title in titles)


def test_a_forged_form_from_another_site_is_refused(browser, page_bot: PageBot, tmp_path: Path):
    sign_in(browser, page_bot, "maintainer")
    forged = tmp_path / "forged.html"
    forged.write_text(f'<form method=post action="{page_bot.url}/save" id=f><input name=threshold value=5>'
                      '<button id=go>go</button></form>', encoding="utf-8")
    browser.get(forged.as_uri())
    browser.find_element(By.ID, "go").click()
    heading(browser, "Form refused")
    assert page_bot.bot.runtime.settings.staging.threshold != 5
