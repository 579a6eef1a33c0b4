"""/openapi.json describes every API route the app serves; /docs renders it without a CDN."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Mount, Route

from bot.api.openapi import PREFIX

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
    assert schemas["ActionRequest"]["properties"]["action"]["enum"] == ["approve", "reject"]


def test_docs_render_every_operation_self_contained(bot):
    page = httpx.get(f"{bot.url}/docs")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path in ("/api/v1/matches", "/api/v1/matches/{iid}", "/api/v1/matches/{iid}/send", "/api/v1/config"):
        assert path in page.text
    for schema in ("Match", "StageResponse", "MatchPage"):
        assert f'id="schema-{schema}"' in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # nothing from elsewhere
