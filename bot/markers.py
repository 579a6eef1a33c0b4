"""The bot's whole memory: hidden markers in the notes and descriptions it writes.

A marker is an HTML comment holding a small versioned JSON object:

    <!-- vorhoelle:1 {"kind": "transition", "source": "label_event:812", ...} -->

`kind` says what the bot did (transition, refusal, notified, help, staged, ...) and `source`
names the GitLab object that caused it (`label_event:<id>`, `note:<id>`, `award:<id>`,
`api:<request id>`, `match:<key>`). A source that already has a marker of a kind is never acted
on again for that kind; that is how a replayed webhook or a second converge stays harmless.
Only markers in notes written by the bot's own user count: anyone can type a comment. A
description the bot wrote holds only the record of what it staged (`match`, `imported`): people
with the Reporter role can edit it, so any other kind found there is ignored (`description_markers`).
GitLab renders HTML comments invisibly, and the JSON is escaped so that no text inside it can
close the comment early.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
DESCRIPTION_KINDS = frozenset({"match", "imported"})
"""The kinds a description may hold; history, deliveries and applications live in notes."""
_PATTERN = re.compile(r"<!-- vorhoelle:(\d+) (\{.*?\}) -->")


@dataclass(frozen=True)
class Marker:
    kind: str
    source: str
    data: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION


def source_id(kind: str, ident: object) -> str:
    """`source_id("note", 17)` -> `"note:17"`: the one spelling of a triggering source."""
    return f"{kind}:{ident}"


def render_marker(kind: str, source: str, **data: Any) -> str:
    payload = {"kind": kind, "source": source, **data}
    text = json.dumps(payload, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    # `--` may not appear inside an HTML comment; `<` and `>` could end it early; `@` keeps any
    # text-based mention scanner from pinging `@all` out of a marker.
    text = text.replace("--", "\\u002d\\u002d").replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("@", "\\u0040")
    return f"<!-- vorhoelle:{VERSION} {text} -->"


def parse_markers(body: str | None) -> list[Marker]:
    """Every well-formed marker in `body`; anything unreadable is ignored, never fatal."""
    found: list[Marker] = []
    for version, raw in _PATTERN.findall(body or ""):
        try:
            payload = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(payload, dict):
            continue
        kind, source = payload.pop("kind", None), payload.pop("source", None)
        if isinstance(kind, str) and isinstance(source, str):
            found.append(Marker(kind=kind, source=source, data=payload, version=int(version)))
    return found


def without_markers(body: str, kind: str) -> str:
    """`body` with every marker of `kind` taken out (the rest of the text as it was)."""
    def keep(found: re.Match[str]) -> str:
        return "" if any(m.kind == kind for m in parse_markers(found[0])) else found[0]

    return _PATTERN.sub(keep, body)


def description_markers(body: str | None) -> list[Marker]:
    """The markers of a description the bot wrote that may count: `DESCRIPTION_KINDS` only, and
    one `match` (the first): the bot writes one per issue, so any other was typed by someone."""
    found = [m for m in parse_markers(body) if m.kind in DESCRIPTION_KINDS]
    first = next((m for m in found if m.kind == "match"), None)
    return [m for m in found if m.kind != "match" or m is first]
