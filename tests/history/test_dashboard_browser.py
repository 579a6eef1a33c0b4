"""The static dashboard opened in headless Chromium: charts drawn, search filtering, phone layout."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.history.chromium import Chromium, find_binary
from tests.history.conftest import FIXTURES
from tests.history.scenario import make_known
from tests.support.world import World

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BINARY = find_binary()
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="no chromium binary on PATH (Debian: apt-get install -y chromium)"
)
CHARTS = """Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  return {id: svg.dataset.chart, shapes: svg.querySelectorAll('rect, circle').length,
          width: box.width, height: box.height, empty: svg.classList.contains('chart-empty')};
})"""
VISIBLE_ROWS = "Array.from(document.querySelectorAll('#applications tbody tr')).filter(r => !r.hidden).map(r => r.cells[1].textContent.trim())"  # noqa: E501


@pytest.fixture
def site(world: World, vorhoelle, tmp_path: Path) -> Path:
    assert vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv")).code == 0
    make_known(world)
    assert vorhoelle("export", "--site", str(tmp_path / "public")).code == 0
    return tmp_path / "public" / "index.html"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    chromium = Chromium(BINARY, str(tmp_path / "chromium-profile"))
    yield chromium
    chromium.close()


def screenshot(browser: Chromium, session: str, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


CLEAR_SEARCH = """(() => { const search = document.getElementById('search');
  search.value = ''; search.dispatchEvent(new Event('input')); search.focus(); })()"""


def type_into_search(browser: Chromium, session: str, text: str) -> None:
    browser.evaluate(session, CLEAR_SEARCH)
    if text:
        browser.call("Input.insertText", session, text=text)  # as a keyboard would: fires `input`


def test_every_chart_is_drawn_and_the_table_filters(site: Path, browser: Chromium) -> None:
    session = browser.open_page(site.as_uri())
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900, deviceScaleFactor=1, mobile=False)

    charts = browser.evaluate(session, CHARTS)
    assert [c["id"] for c in charts] == ["funnel", "states", "per-week", "scores", "decision-time", "backlog", "providers"]
    for chart in charts:
        assert chart["shapes"] > 0 and not chart["empty"], chart
        assert chart["width"] > 100 and chart["height"] > 50, chart
    assert len(browser.evaluate(session, VISIBLE_ROWS)) == 6
    screenshot(browser, session, "dashboard-desktop.png")

    type_into_search(browser, session, "gulp")
    assert browser.evaluate(session, VISIBLE_ROWS) == ["Data <Scientist>"]
    assert browser.evaluate(session, "document.getElementById('shown').textContent") == "1"

    type_into_search(browser, session, "linkedin sent")  # every word must be found
    assert browser.evaluate(session, VISIBLE_ROWS) == ["Data Analyst", "Python Developer, Remote"]  # dated: sent
    type_into_search(browser, session, "linkedin sent remote")
    assert browser.evaluate(session, VISIBLE_ROWS) == ["Python Developer, Remote"]

    type_into_search(browser, session, "no such application")
    assert browser.evaluate(session, VISIBLE_ROWS) == []
    type_into_search(browser, session, "")
    assert len(browser.evaluate(session, VISIBLE_ROWS)) == 6


def test_a_search_in_the_address_and_the_phone_layout(site: Path, browser: Chromium) -> None:
    session = browser.open_page(site.as_uri() + "?q=freelancermap")
    assert browser.evaluate(session, VISIBLE_ROWS) == ["Platform Engineer"]
    assert browser.evaluate(session, "document.getElementById('search').value") == "freelancermap"

    browser.call("Emulation.setDeviceMetricsOverride", session, width=390, height=844, deviceScaleFactor=2, mobile=True)
    browser.call("Page.navigate", session, url=site.as_uri())
    browser.wait_for_event("Page.loadEventFired", session)
    layout = browser.evaluate(session, "({page: document.documentElement.scrollWidth, screen: window.innerWidth,"
                                       " charts: Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().right)})")  # noqa: E501
    assert layout["screen"] == 390
    assert layout["page"] <= layout["screen"]  # nothing sticks out sideways; the table scrolls in its box
    assert all(right <= 390 for right in layout["charts"])
    assert screenshot(browser, session, "dashboard-phone.png").stat().st_size > 10_000


LABELS_INSIDE = """Array.from(document.querySelectorAll('svg.chart[data-chart=providers] text, svg.chart[data-chart=funnel] text'))
  .map(t => { const svg = t.ownerSVGElement.getBoundingClientRect(), box = t.getBoundingClientRect();
              return {text: t.textContent, inside: box.left >= svg.left - 0.5 && box.right <= svg.right + 0.5}; })"""
TITLES = """Array.from(document.querySelectorAll('#applications tbody tr'))
  .map(r => ({title: r.cells[1].textContent.trim(), link: !!r.cells[1].querySelector('a'), company: r.cells[2].textContent.trim()}))"""


def test_the_funnel_the_numbers_and_the_defects_seen(site: Path, browser: Chromium) -> None:
    """The funnel with conversions, the tables of answers, and what was seen broken at 1280 px:
    provider names cut on the left, the Company column empty, a title that was no link."""
    session = browser.open_page(site.as_uri())
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900, deviceScaleFactor=1, mobile=False)

    labels = browser.evaluate(session, LABELS_INSIDE)
    assert labels and all(label["inside"] for label in labels), [label for label in labels if not label["inside"]]
    assert any(label["text"].startswith("replied · ") for label in labels)
    rows = browser.evaluate(session, TITLES)
    assert all(row["link"] for row in rows), rows
    # Only the match that names no one offering it has no company (it was every row).
    assert [row["title"] for row in rows if not row["company"]] == ["Looks like a match"], rows
    assert browser.evaluate(session, "document.querySelectorAll('#by_provider tbody tr').length") >= 1
    assert browser.evaluate(session, "document.querySelector('a[href=\"interviews.ics\"]') !== null")
    assert (site.parent / "interviews.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")

    box = browser.evaluate(session, "(() => { const r = document.querySelector('svg.chart[data-chart=funnel]')"
                                    ".closest('figure').getBoundingClientRect();"
                                    " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.call("Page.captureScreenshot", session, format="png", clip={**box, "scale": 1})
    (ARTIFACTS / "dashboard-funnel.png").write_bytes(base64.b64decode(shot["data"]))
    assert (ARTIFACTS / "dashboard-funnel.png").stat().st_size > 2_000
