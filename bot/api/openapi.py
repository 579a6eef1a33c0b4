"""The API described by the same objects that route it: `GET /openapi.json` and `GET /docs`.

Each endpoint module lists its `Operation`s; `bot.api.routes()` turns them into Starlette routes
and `document()` into OpenAPI 3.1, with every schema generated from the pydantic models. A route
cannot exist without its documentation, and the documentation cannot describe a route that
does not exist. `/docs` is Swagger UI over `/openapi.json`, its files served by the bot from the
`openapi-ui-bundles` package: no CDN (not reachable from everywhere), no inline script (a strict
Content-Security-Policy lets it run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from functools import cache
from typing import Any, Awaitable, Callable

from pydantic import BaseModel, TypeAdapter
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from bot import __version__, render

PREFIX = "/api/v1"
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
_PARAM_TYPES = {"int": "integer", "str": "string", None: "string"}


@dataclass(frozen=True)
class Operation:
    """One method on one path, with what it takes and what it answers."""

    method: str
    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    summary: str
    body: Any = None
    query: type[BaseModel] | None = None
    responses: dict[int, tuple[str, Any]] = field(default_factory=dict)
    secured: bool = True

    @property
    def full_path(self) -> str:
        return PREFIX + self.path

    @property
    def openapi_path(self) -> str:
        """`/matches/{iid:int}` (Starlette) -> `/api/v1/matches/{iid}` (OpenAPI)."""
        return _PATH_PARAM.sub(r"{\1}", self.full_path)


class _Schemas:
    """Collects every model's schema under components/schemas and hands out references."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, annotation: Any) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(ref_template=_REF)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.components[annotation.__name__] = schema
            return {"$ref": _REF.format(model=annotation.__name__)}
        return schema


def _parameters(op: Operation, schemas: _Schemas) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": _PARAM_TYPES.get(kind, "string")}}
        for name, kind in _PATH_PARAM.findall(op.full_path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": prop.get("description", ""), "schema": prop})
    return params


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": op.summary,
        "description": (op.endpoint.__doc__ or "").strip(),
        "operationId": op.endpoint.__name__,
        "parameters": _parameters(op, schemas),
        "responses": {
            str(status): {
                "description": text,
                **({"content": {"application/json": {"schema": schemas.of(model)}}} if model is not None else {}),
            }
            for status, (text, model) in sorted(op.responses.items())
        },
    }
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas.of(op.body)}}}
    spec["security"] = [{"bearerAuth": []}] if op.secured else []
    return spec


def document(operations: list[Operation]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `operations`."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vorhölle API",
            "version": __version__,
            "description": "Stage job matches as GitLab issues and act on them. Every /api/v1 call "
            "needs `Authorization: Bearer <api_token>`.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def doc_routes(operations: list[Operation]) -> list[tuple[str, Callable[[Request], Awaitable[Response]]]]:
    """`/openapi.json` and `/docs`, both public: they describe the API, they reveal no data."""

    @cache
    def spec() -> dict[str, Any]:
        """Written on the first request: pydantic's JSON schemas take ~40 ms, not to be spent
        before the bot answers."""
        return document(operations)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(spec())

    async def docs(request: Request) -> Response:
        info = spec()["info"]
        return HTMLResponse(render.render("api/swagger.html.j2", title=f"{info['title']} {info['version']}"))

    async def docs_asset(request: Request) -> Response:
        path = DOCS_ASSETS.get(request.path_params["name"])
        if path is None:
            return JSONResponse({"error": "not found", "detail": None}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    return [("/openapi.json", openapi_json), ("/docs", docs), ("/docs/{name}", docs_asset)]


def _docs_assets() -> dict[str, Path]:
    """The files /docs loads, by name: Swagger UI's from its package, the start script ours."""
    from openapi_ui_bundles import swagger_ui

    bundled = {name: swagger_ui.static_path / name for name in ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")}
    return {**bundled, "swagger-init.js": Path(__file__).resolve().parent.parent / "static" / "swagger-init.js"}


DOCS_ASSETS = _docs_assets()
