"""A staged match comes again with a new score: one note says so, then title, labels and
description follow."""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import Markup

from bot import render
from bot.markers import Marker, description_markers, parse_markers, render_marker, source_id
from bot.seams import GitLab
from bot.staging.attachments import attach
from bot.staging.cycle import Cycle, result
from bot.staging.description import issue_title, render_description, score_label
from bot.staging.match import Match, StageResult
from bot.staging.search import MATCH_KIND

logger = logging.getLogger(__name__)

RESCORED_KIND = "rescored"


def latest_rescore(gitlab: GitLab, iid: int, source: str, bot_id: int) -> int | None:
    """The score the bot's most recent rescore note announced for this match."""
    latest = None
    for note in gitlab.notes(iid):
        if (note.get("author") or {}).get("id") != bot_id:
            continue
        for marker in parse_markers(note.get("body")):
            if marker.kind == RESCORED_KIND and marker.source == source:
                latest = marker.data.get("to")
    return latest


def _facts_only_the_marker_knows(marker: Marker, match: Match) -> dict[str, Any]:
    """The job facts of an old `match` marker (an imported row's company, employment type, ...)
    that the new match does not state: what the match does state is newer and wins."""
    stated = {name for name, value in match.model_dump().items() if value not in (None, "", [], {})}
    own = {"score", "score_max", "token", "staged"}
    return {name: value for name, value in marker.data.items() if name not in own | stated}


def _score_text(marker: Marker) -> str:
    """The score a `match` marker holds as a person reads it: `85 %`, `75-80 %` (an imported
    range) or `no score` (an imported row without one)."""
    low, high = marker.data.get("score"), marker.data.get("score_max")
    if not isinstance(low, int):
        return "no score"
    return f"{low}-{high} %" if isinstance(high, int) and high != low else f"{low} %"


def rescore(cycle: Cycle, match: Match, issue: dict[str, Any], marker: Marker) -> StageResult:
    """A new score: say so in a note (once), then bring title, labels and description up to date.

    The note goes first: if the bot dies between the two writes, the replay still sees the old
    score in the description and finishes the update without a second note.
    """
    settings, gitlab, iid = cycle.settings, cycle.gitlab, issue["iid"]
    source, old = source_id(MATCH_KIND, match.key), marker.data.get("score")
    if latest_rescore(gitlab, iid, source, cycle.bot_id) != match.score:
        body = render.render(
            "issue/rescored.md.j2",
            old=Markup(_score_text(marker)),  # made of two integers, nothing to escape
            new=match.score,
            marker=Markup(render_marker(RESCORED_KIND, source, to=match.score, **{"from": old})),
        )
        gitlab.create_note(iid, body)
    attached = [attach(gitlab, cycle.defaults, a) for a in match.attachments]
    new_label = score_label(settings, match.score)
    others = [r.label for r in settings.staging.score_labels if r.label != new_label]
    updated = gitlab.edit_issue(
        iid,
        title=issue_title(settings, match),
        description=render_description(settings, match, attached, cycle.bot_username,
                                       [m for m in description_markers(issue.get("description"))
                                        if m.kind != MATCH_KIND],
                                       _facts_only_the_marker_knows(marker, match)),
        add_labels=",".join([new_label] if new_label else []),
        remove_labels=",".join(others),
    )
    logger.info("rescored match #%s: %s -> %s %%", iid, old, match.score,
                extra={"event": "rescored", "issue": iid, "score": match.score})
    return result(match, "updated", updated, f"score changed from {_score_text(marker)} to {match.score} %")
