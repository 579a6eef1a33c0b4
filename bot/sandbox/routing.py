"""Paths as GitLab reads them: `projects/group%2Fproject` is ONE segment, not two.

Starlette matches on the percent-decoded path, where `group%2Fproject` has become
`group/project`. `KeepEncodedSlashes` rebuilds the path from the raw bytes, re-encoding `%` and
`/` inside each segment; routes then declare such parameters as `{name:seg}`, whose convertor
decodes them again. Label names (`job-match%2Fpending`) and project paths both rely on this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route


class SegmentConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return value.replace("%", "%25").replace("/", "%2F")


register_url_convertor("seg", SegmentConvertor())


def _keep_segment(segment: str) -> str:
    return unquote(segment).replace("%", "%25").replace("/", "%2F")


class KeepEncodedSlashes:
    """Pure ASGI middleware: rebuild `scope["path"]` with in-segment slashes still encoded."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw and b"%2" in raw.upper():
            scope = dict(scope)
            text = raw.decode("latin-1").split("?", 1)[0]
            scope["path"] = "/".join(_keep_segment(part) for part in text.split("/"))
        await self.app(scope, receive, send)


def record_id(segment: str) -> int | None:
    """The number a path segment names, None when it is not one.

    ASCII digits only: `str.isdigit` also accepts `²`, which `int` then refuses.
    """
    return int(segment) if segment.isascii() and segment.isdigit() else None


def route(path: str, endpoint: Any, *methods: str) -> Route:
    return Route(path, endpoint, methods=list(methods) or ["GET"])
