"""Which issue holds a match: asked of GitLab every time, never remembered.

A staged issue carries a `match:<key>` marker in its bot-written description; the issues
`search` filter finds candidates by the key's hash, and the marker (in a description the bot
wrote) confirms them.
"""

from __future__ import annotations

from typing import Any

from bot.markers import Marker, description_markers, source_id
from bot.seams import GitLab
from bot.staging.match import Match

MATCH_KIND = "match"


def match_marker(issue: dict[str, Any], bot_id: int) -> Marker | None:
    """The `match` marker of an issue the bot staged; None for anything else."""
    if (issue.get("author") or {}).get("id") != bot_id:
        return None
    return next((m for m in description_markers(issue.get("description")) if m.kind == MATCH_KIND), None)


def find_staged(gitlab: GitLab, match: Match) -> tuple[dict[str, Any], Marker] | None:
    """The issue already staged for `match`, asked of GitLab (search, then verify the marker)."""
    wanted = source_id(MATCH_KIND, match.key)
    bot_id = gitlab.bot_user.id
    for issue in gitlab.search_issues(match.key_hash):
        marker = match_marker(issue, bot_id)
        if marker is not None and marker.source == wanted:
            return issue, marker
    return None
