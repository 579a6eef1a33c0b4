"""The job facts a staged issue's description shows, read back from its Markdown.

Staging (templates/issue.md.j2) writes the facts as escaped Markdown tables: a two-column
table (`| Provider | Acme |`, `| Posting | [url](url) |`, and the engine's extra fields) and a
score breakdown (`| Requirement | Weight | ✅ met | Comment |`). The export reads them back here
when the `match` marker does not carry them; what the marker carries always wins.
"""

from __future__ import annotations

import html
import re
from typing import Any

_HEADING = re.compile(r"(?m)^## (.+)$")
_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
_BACKSLASH_ESCAPE = re.compile(r"\\(.)")
_LINK = re.compile(r"^\[(.*)\]\((\S*)\)$")
_VERDICT = re.compile(r"(met|partial|missing)$")
# Labels of the facts table -> the export's field names.
_FACT_NAMES = {"provider": "provider", "location": "location", "rate": "rate", "posting": "url"}


def unescape(markdown: str) -> str:
    """Undo bot/escape.py's Markdown escaping: the text a person originally typed."""
    return html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", markdown.replace("<br>", "\n"))).strip()


def _cells(line: str) -> list[str] | None:
    if not (line.startswith("|") and line.rstrip().endswith("|")):
        return None
    return [cell.strip() for cell in _CELL_SEPARATOR.split(line.strip())[1:-1]]


def _field_name(label: str) -> str:
    name = unescape(label).casefold().replace(" ", "_")
    return _FACT_NAMES.get(name, name)


def read_facts(description: str) -> dict[str, Any]:
    """Title, table facts and requirements found in a staged issue's description."""
    facts: dict[str, Any] = {}
    heading = _HEADING.search(description)
    if heading:
        facts["title"] = unescape(heading.group(1))
    met: list[str] = []
    missing: list[str] = []
    for line in description.splitlines():
        cells = _cells(line)
        if not cells or not cells[0] or set(cells[0]) <= set("-: "):
            continue
        if len(cells) == 2:
            link = _LINK.match(cells[1])
            facts.setdefault(_field_name(cells[0]), unescape(link.group(1) if link else cells[1]))
        elif len(cells) == 4 and (verdict := _VERDICT.search(cells[2])):
            requirement = unescape(cells[0])
            if verdict.group(1) == "met":
                met.append(requirement)
            else:
                missing.append(requirement if verdict.group(1) == "missing" else f"{requirement} (partial)")
    if met:
        facts["requirements_met"] = met
    if missing:
        facts["requirements_missing"] = missing
    return facts
