"""GitLab's own contracts (tests/fixtures/gitlab_schemas/contracts.json), held against JSON.

    differences("api", "issue", body)      -> ["issue.author.web_url: missing", ...]

A contract lists the keys GitLab always sends with their JSON types: `"string|null"`, an object
`{"type": "object", "ref": "user_basic", "keys": {...}}` (a `ref` names another contract of the
same group; `keys` adds to it), an array `{"type": "array", "items": ...}`. `"hook_time"` is a
string in GitLab's webhook timestamp style, `2025-08-26 06:49:04 UTC`. `extends` takes over
another contract's keys. Extra keys in the answer are allowed: GitLab's own answers grow too.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab_schemas" / "contracts.json"
HOOK_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
JSON_TYPES: dict[str, Any] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "object": dict, "array": list, "null": type(None),
}


@cache
def contracts() -> dict[str, dict[str, Any]]:
    return json.loads(CONTRACTS.read_text())


def keys_of(group: str, name: str) -> dict[str, Any]:
    contract = contracts()[group][name]
    inherited = keys_of(group, contract["extends"]) if "extends" in contract else {}
    return inherited | contract["keys"]


def differences(group: str, name: str, value: Any, where: str | None = None) -> list[str]:
    """Every way `value` breaks contract `group.name` (an empty list when it holds)."""
    return _object(group, keys_of(group, name), value, where or name)


def _object(group: str, keys: dict[str, Any], value: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    found: list[str] = []
    for key, spec in keys.items():
        if key not in value:
            found.append(f"{where}.{key}: missing")
        else:
            found += _value(group, spec, value[key], f"{where}.{key}")
    return found


def _value(group: str, spec: Any, value: Any, where: str) -> list[str]:
    if isinstance(spec, str):
        spec = {"type": spec}
    types = spec["type"].split("|")
    if value is None:
        return [] if "null" in types else [f"{where}: null, expected {spec['type']}"]
    if "hook_time" in types:
        ok = isinstance(value, str) and HOOK_TIME.match(value)
        return [] if ok else [f"{where}: {value!r} is not GitLab's hook time (2025-08-26 06:49:04 UTC)"]
    if not any(_is(value, t) for t in types):
        return [f"{where}: {type(value).__name__} {value!r:.40}, expected {spec['type']}"]
    if isinstance(value, dict) and ("ref" in spec or "keys" in spec):
        keys = (keys_of(group, spec["ref"]) if "ref" in spec else {}) | spec.get("keys", {})
        return _object(group, keys, value, where)
    if isinstance(value, list) and "items" in spec:
        return [d for i, item in enumerate(value) for d in _value(group, spec["items"], item, f"{where}[{i}]")]
    return []


def _is(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, JSON_TYPES[type_name])
