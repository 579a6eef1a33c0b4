"""Checks for setting values that end up in text GitLab reads (notes, titles, labels), and for
secrets given empty. The settings models apply them as validators (bot/config/sections.py); the
values are escaped again where they are rendered (bot/render.py).
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

_EMOJI_NAME = re.compile(r"^[a-z0-9_+-]+$")
_STATE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
TITLE_PLACEHOLDERS = ("score", "title", "provider", "location")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def check_emoji_name(value: str) -> str:
    """An award emoji's name as GitLab spells it (`thumbsup`, `+1`, `heavy_check_mark`): it is
    printed into notes, so nothing but those characters may reach them."""
    if not _EMOJI_NAME.match(value):
        raise ValueError(f"{value!r} is not an emoji name: use GitLab's name, e.g. thumbsup "
                         "(lowercase letters, digits, _ + -)")
    return value


def check_label_name(value: str) -> str:
    """A label's name by GitLab's rules (not empty, no comma, at most 255 characters), and
    without what GitLab would strip (HTML) or that would change the text around it (line breaks,
    invisible characters)."""
    if not value.strip() or value != value.strip():
        raise ValueError(f"{value!r} is not a label name: it must not be empty or start or end with a space")
    if len(value) > 255:
        raise ValueError("a label name has at most 255 characters")
    bad = sorted({c for c in value if c in ",<>" or not c.isprintable()})
    if bad:
        raise ValueError(f"{value!r} is not a label name: GitLab's label names cannot hold {bad}")
    return value


def check_state_names(states: dict[str, Any]) -> dict[str, Any]:
    """Workflow state names: printed into notes, named in `notify.events` and in variables
    (`VORHOELLE_NOTIFY__EVENTS__APPROVED`), so plain lowercase words."""
    for name in states:
        if not _STATE_NAME.match(name):
            raise ValueError(f"{name!r} is not a state name: use a lowercase word (letters, digits, _ -), "
                             "e.g. interviewing")
    return states


def check_time_zone(value: str) -> str:
    """An IANA time zone name (quiet hours, the lifecycle's typed times)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a known time zone; use an IANA name such as Europe/Berlin or UTC"
        ) from None
    return value


def check_username(value: str | None) -> str | None:
    """A GitLab username, which the bot @mentions."""
    if value is not None and not _USERNAME.match(value):
        raise ValueError(f"{value!r} is not a GitLab username (letters, digits, _ . -)")
    return value


def check_title_template(value: str) -> str:
    """`staging.title_template`: text with `{score}`, `{title}`, `{provider}`, `{location}` and
    nothing else: no format spec (`{title:>9999999}`), conversion or attribute (`{title.x}`),
    so that filling it costs no more than the fields themselves (bot/staging.py fills it)."""
    for found in _PLACEHOLDER.finditer(value):
        if found.group(0) in ("{{", "}}"):
            continue
        name = found.group(1)
        if name not in TITLE_PLACEHOLDERS:
            shown = found.group(0)
            raise ValueError(
                f"{shown!r} is not a placeholder: use {', '.join('{' + n + '}' for n in TITLE_PLACEHOLDERS)} "
                "(no format spec or attribute), and {{ }} for a literal brace"
            )
    return value


def fill_title_template(template: str, fields: dict[str, object]) -> str:
    """`template` with each placeholder replaced by its field; `{{` and `}}` become braces."""
    def one(found: re.Match[str]) -> str:
        token = found.group(0)
        return token[0] if token in ("{{", "}}") else str(fields[found.group(1)])

    return _PLACEHOLDER.sub(one, check_title_template(template))


def unset_if_empty(value: Any) -> Any:
    """An empty secret (`VORHOELLE_WEBHOOK_SECRET=`, an empty secret file) is no secret: as one it
    would accept an empty token. `config check` reports it as not set."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return None if isinstance(text, str) and not text.strip() else value
