"""Request parameters the way Grape (GitLab's API framework) sees them.

Grape merges the query string with a JSON, form or multipart body, so a client may send
`POST /projects?name=x` or a JSON body alike. Lists arrive as `key[]=a&key[]=b`, as a JSON array
or as a comma-separated string; all three read the same here.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from bot.sandbox.errors import bad_request, invalid, missing

_TRUE = {"true", "1", "yes", "t", "on"}
_FALSE = {"false", "0", "no", "f", "off", ""}


class Params:
    """Merged parameters with typed accessors that fail like Grape (400 `... is invalid`).

    The accessors are named after the types they return, so inside the class body `str`, `int`,
    `bool` and `list` are these methods: annotations spell the types `builtins.str` and so on."""

    def __init__(self, values: dict[builtins.str, Any]) -> None:
        self.values = values

    def __contains__(self, name: builtins.str) -> builtins.bool:
        return name in self.values or f"{name}[]" in self.values

    def raw(self, name: builtins.str, default: Any = None) -> Any:
        if name in self.values:
            return self.values[name]
        return self.values.get(f"{name}[]", default)

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise invalid(name)
        return str(value)

    def required(self, name: builtins.str) -> builtins.str:
        value = self.str(name)
        if value is None or value.strip() == "":
            raise missing(name)
        return value

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise invalid(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid(name) from None

    def bool(self, name: builtins.str, default: builtins.bool | None = None) -> builtins.bool | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise invalid(name)

    def list(self, name: builtins.str) -> builtins.list[builtins.str] | None:
        """A list from `key[]` repeats, a JSON array or `a,b,c`; None when absent."""
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, dict):
            raise invalid(name)
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def int_list(self, name: builtins.str) -> builtins.list[builtins.int] | None:
        items = self.list(name)
        if items is None:
            return None
        try:
            return [int(item) for item in items]
        except ValueError:
            raise invalid(name) from None

    def upload(self, name: builtins.str) -> UploadFile:
        value = self.raw(name)
        if not isinstance(value, UploadFile):
            raise missing(name)
        return value


async def read_params(request: Request) -> Params:
    values: dict[str, Any] = {}
    for key in request.query_params.keys():
        found = request.query_params.getlist(key)
        values[key] = found if key.endswith("[]") else found[-1]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body.strip():
            try:
                document = json.loads(body)
            except ValueError:
                raise bad_request("400 Bad request - body is not valid JSON") from None
            if not isinstance(document, dict):
                raise bad_request("400 Bad request - body must be a JSON object")
            values.update(document)
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key in form.keys():
            parts = form.getlist(key)  # text fields and uploaded files
            values[key] = parts if key.endswith("[]") else parts[-1]
    return Params(values)
