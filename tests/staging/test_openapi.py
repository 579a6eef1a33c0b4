"""/openapi.json describes every API route the app serves; /docs is Swagger UI, served without a CDN."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Mount, Route

from bot.api.openapi import PREFIX
from tests.history.chromium import Chromium, find_binary
from tests.support.waiting import wait_until

METHODS = {"get", "post", "put", "patch", "delete"}


def served_operations(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route under /api/v1 in the running app."""
    found = set()
    for mount in app.routes:
        if isinstance(mount, Mount) and mount.path == PREFIX:
            for route in mount.routes:
                assert isinstance(route, Route)
                path = re.sub(r"{(\w+):\w+}", r"{\1}", PREFIX + route.path)
                found |= {(m.lower(), path) for m in route.methods - {"HEAD"}}
    return found


def resolve(doc, ref):
    assert ref.startswith("#/components/schemas/")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def refs_in(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def test_the_document_covers_every_route_and_only_those(bot):
    doc = httpx.get(f"{bot.url}/openapi.json").json()

    documented = {(m, path) for path, item in doc["paths"].items() for m in item}
    assert documented == served_operations(bot.app)
    assert ("post", "/api/v1/matches") in documented and ("get", "/api/v1/config") in documented


def test_the_document_is_well_formed(bot):
    doc = httpx.get(f"{bot.url}/openapi.json").json()

    assert doc["openapi"].startswith("3.1") and doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path, item in doc["paths"].items():
        assert set(item) <= METHODS
        for _method, op in item.items():
            assert op["summary"] and op["operationId"] and op["security"] == [{"bearerAuth": []}]
            assert "401" in op["responses"] and all(code.isdigit() for code in op["responses"])
            for name in re.findall(r"{(\w+)}", path):
                assert any(p["name"] == name and p["in"] == "path" and p["required"] for p in op["parameters"])
    for ref in refs_in(doc):
        assert resolve(doc, ref)  # every reference points at a schema that exists


def test_schemas_come_from_the_models(bot):
    doc = httpx.get(f"{bot.url}/openapi.json").json()
    schemas = doc["components"]["schemas"]

    stage = doc["paths"]["/api/v1/matches"]["post"]
    body = stage["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/Match"} in body["anyOf"]
    assert set(schemas["Match"]["required"]) == {"title", "score"}
    assert schemas["Match"]["properties"]["score"]["maximum"] == 100
    assert {"201", "200", "422"} <= set(stage["responses"])
    listing = doc["paths"]["/api/v1/matches"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"state", "min_score", "page", "per_page"}
    assert schemas["ActionRequest"]["properties"]["action"]["enum"] == [
        "approve", "reject", "reply", "interview", "offer", "hired", "decline", "turned-down", "withdraw"]
    assert {"when", "with"} <= set(schemas["ActionRequest"]["properties"])
    timeline = doc["paths"]["/api/v1/matches/{iid}/timeline"]["get"]["responses"]["200"]
    assert timeline["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Timeline"}
    assert "with" in schemas["TimelineEvent"]["properties"]


def assets_of(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)""", page)


def test_docs_is_swagger_ui_whose_every_file_the_bot_serves_itself(bot):
    """/docs loads Swagger UI from the bot, not from a CDN: every file it names is relative and
    answered by the bot, the start script points at /openapi.json, and nothing else is served."""
    page = httpx.get(f"{bot.url}/docs")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = assets_of(page.text)
    assert {"docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "docs/swagger-init.js"} <= set(assets)
    assert "<script>" not in page.text   # no inline script: a strict CSP lets the page run
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset)   # nothing from elsewhere
        answer = httpx.get(str(page.url.join(asset)))
        assert answer.status_code == 200 and answer.content, asset
    start = httpx.get(str(page.url.join("docs/swagger-init.js"))).text
    assert 'url: "openapi.json"' in start
    assert httpx.get(str(page.url.join("openapi.json"))).json()["openapi"].startswith("3.1")
    assert httpx.get(f"{bot.url}/docs/..%2Fopenapi.py").status_code == 404
    assert httpx.get(f"{bot.url}/docs/index.html").status_code == 404


@pytest.mark.skipif(find_binary() is None, reason="no chromium binary on PATH (Debian: apt-get install -y chromium)")
def test_docs_render_every_operation_in_a_browser_offline(bot, tmp_path):
    """Headless Chromium, which reaches nothing but the bot here: Swagger UI draws every path."""
    browser = Chromium(find_binary(), str(tmp_path / "chromium-profile"))
    try:
        session = browser.open_page(f"{bot.url}/docs")
        drawn = wait_until(lambda: browser.evaluate(session, OPERATIONS_DRAWN), message="Swagger UI's operations")
        title = browser.evaluate(session, "document.querySelector('.info .title')?.textContent || ''")
    finally:
        browser.close()
    for path in ("/api/v1/matches", "/api/v1/matches/{iid}", "/api/v1/matches/{iid}/send", "/api/v1/config"):
        assert path in drawn
    assert "Vorh" in title


OPERATIONS_DRAWN = """Array.from(document.querySelectorAll('.opblock-summary-path'))
  .map(e => e.getAttribute('data-path')).filter(Boolean)"""
