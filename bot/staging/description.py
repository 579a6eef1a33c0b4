"""What a staged issue says: its title, its description and its score label.

Every field is escaped by the template (bot/render.py) and shortened until the whole fits
GitLab's limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bot import render
from bot.config.settings import Settings
from bot.config.values import fill_title_template
from bot.escape import cut, plain_title
from bot.markers import Marker, render_marker, source_id
from bot.staging.errors import StagingError
from bot.staging.match import Match
from bot.staging.parts import read_parts
from bot.staging.search import MATCH_KIND

DESCRIPTION_LIMIT = 1_000_000
"""GitLab takes 1,048,576 characters; the rest is headroom for its own rewriting."""
ICONS = {"met": "✅", "partial": "⚠️", "missing": "❌"}
_MARKER_SLOT = "<!-- vorhoelle:markers -->"
_USERNAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Attached:
    """An uploaded file as the description links it."""

    name: str
    url: Markup


def issue_title(settings: Settings, match: Match) -> str:
    """The title from `staging.title_template` (placeholders only, checked with the settings),
    cut to GitLab's 255 characters."""
    fields = {"score": match.score, "title": match.title, "provider": match.provider or "",
              "location": match.location or ""}
    return plain_title(fill_title_template(settings.staging.title_template, fields))


def _facts(match: Match) -> list[tuple[str, str]]:
    remote = {True: "yes", False: "no"}.get(match.remote, match.remote)  # type: ignore[arg-type]
    contact = ", ".join(p for p in (match.contact.name, match.contact.email) if p) if match.contact else None
    rows = [
        ("Provider", match.provider),
        ("Location", match.location),
        ("Remote", remote),
        ("Start", match.start),
        ("Duration", match.duration),
        ("Rate", str(match.rate) if match.rate else None),
        ("Contact", contact),
        ("Skills", ", ".join(match.skills)),
        ("Cycle", match.cycle_id),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


def _extras(match: Match) -> list[tuple[str, str]]:
    return [
        (name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
        for name, value in match.extras.items()
    ]


def _safe_username(username: str) -> Markup:
    if not _USERNAME.fullmatch(username):
        raise StagingError(f"the bot's username {username!r} is not a GitLab username")
    return Markup(username)


MARKER_FACT_CHARS = 200


def _shown_facts(match: Match) -> dict[str, str]:
    """What a notification names beside the score (title, provider, location), as the match
    gave them: the notifier reads them from the marker, and each channel escapes them itself."""
    facts = {"title": match.title, "provider": match.provider, "location": match.location}
    return {name: cut(value, MARKER_FACT_CHARS) for name, value in facts.items() if value}


def render_description(
    settings: Settings, match: Match, attachments: Iterable[Attached], bot_username: str,
    carried: Iterable[Marker] = (), kept_facts: dict[str, Any] | None = None,
) -> str:
    """The issue body; every field is shortened until the whole fits GitLab's limit.

    `carried` are markers of other kinds the issue's description held (an `imported` record of
    the spreadsheet row), `kept_facts` job facts only the old `match` marker knew (an imported
    row's company): a new rendering must not erase what another module remembered there.
    """
    states = settings.workflow.states
    context = {
        "match": match,
        "facts": _facts(match),
        "extras": _extras(match),
        "icons": ICONS,
        "attachments": list(attachments),
        "labels": {name: state.label for name, state in states.items()},
        "emoji": settings.workflow.emoji,
        "bot": _safe_username(bot_username),
        "marker": Markup(_MARKER_SLOT),
    }
    limit = settings.staging.max_field_chars
    while True:
        text = render.render("issue.md.j2", max_field_chars=limit, **context)
        if len(text) <= DESCRIPTION_LIMIT or limit <= 100:
            break
        limit //= 4
    # The digests are of the parts as rendered (cut, escaped), read back the way `send` reads them.
    staged = read_parts(text).digests()
    markers = [render_marker(MATCH_KIND, source_id(MATCH_KIND, match.key), **(kept_facts or {}),
                             **_shown_facts(match), score=match.score, token=match.key_hash, staged=staged,
                             **({"apply_by": match.apply_by.isoformat()} if match.apply_by else {}))]
    markers += [render_marker(m.kind, m.source, **m.data) for m in carried]
    return text.replace(_MARKER_SLOT, "\n".join(markers))


def score_label(settings: Settings, score: int) -> str | None:
    """The first score label (highest `min` first) whose minimum the score reaches.

    Score labels grade what staging would stage, so a score below the staging threshold (an
    imported spreadsheet row) gets none: `match-score/medium` means threshold–89, not 0–89.
    """
    if score < settings.staging.threshold:
        return None
    for rule in sorted(settings.staging.score_labels, key=lambda r: r.min, reverse=True):
        if score >= rule.min:
            return rule.label
    return None
