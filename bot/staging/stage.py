"""Scored matches become GitLab issues a reviewer can decide on in ten seconds.

Staging is, with `converge_issue`, the only writer. It remembers nothing itself: whether a
match was staged before is asked of GitLab every time (the `match:<key>` marker in a bot-written
description, found through the issues `search` filter and then verified), so a restarted bot, a
second process or the CLI all see the same truth. A replayed cycle changes nothing; a new score
updates the issue once, with one note saying so.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from markupsafe import Markup

from bot import render
from bot.config.settings import Settings
from bot.escape import plain_title
from bot.gitlab_access import GitLabError
from bot.markers import Marker, parse_markers, render_marker, source_id
from bot.runtime import Runtime
from bot.seams import GitLab
from bot.snapshot import read_snapshot
from bot.staging.labels import ensure_labels
from bot.staging.match import Attachment, Match, StageResult

logger = logging.getLogger(__name__)

MATCH_KIND = "match"
RESCORED_KIND = "rescored"
DESCRIPTION_LIMIT = 1_000_000
"""GitLab takes 1,048,576 characters; the rest is headroom for its own rewriting."""
ICONS = {"met": "✅", "partial": "⚠️", "missing": "❌"}
_USERNAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*")
# One cycle at a time per process, so two requests carrying the same new match cannot both
# miss each other in GitLab and create it twice.
_one_cycle_at_a_time = threading.Lock()


class StagingError(Exception):
    """The settings do not allow staging (unknown reviewer, missing file, bad title template)."""


class CycleInterrupted(GitLabError):
    """GitLab failed for good part-way through a cycle. `results` has one entry per match as
    usual: what was done before the failure, then `not_staged` for the match it hit and the
    rest, so the engine knows what to send again (a replay of the whole cycle is safe too)."""

    def __init__(self, error: GitLabError, results: list[StageResult]):
        super().__init__(error.status, error.message, retry_after=error.retry_after)
        self.results = results


@dataclass(frozen=True)
class Attached:
    """An uploaded file as the description links it."""

    name: str
    url: Markup


@dataclass(frozen=True)
class _Cycle:
    """What every match of one cycle shares, read from GitLab once."""

    settings: Settings
    gitlab: GitLab
    bot_id: int
    bot_username: str
    reviewer_id: int | None
    defaults: dict[str, tuple[str, bytes]]  # default attachment name -> (file name, content)


# --- Reading: which issue holds a match ---------------------------------------------------------


def match_marker(issue: dict[str, Any], bot_id: int) -> Marker | None:
    """The `match` marker of an issue the bot staged; None for anything else."""
    if (issue.get("author") or {}).get("id") != bot_id:
        return None
    found = [m for m in parse_markers(issue.get("description")) if m.kind == MATCH_KIND]
    return found[-1] if found else None


def find_staged(gitlab: GitLab, match: Match) -> tuple[dict[str, Any], Marker] | None:
    """The issue already staged for `match`, asked of GitLab (search, then verify the marker)."""
    wanted = source_id(MATCH_KIND, match.key)
    bot_id = gitlab.bot_user.id
    for issue in gitlab.search_issues(match.key_hash):
        marker = match_marker(issue, bot_id)
        if marker is not None and marker.source == wanted:
            return issue, marker
    return None


# --- Rendering: the title and the description ----------------------------------------------------


def issue_title(settings: Settings, match: Match) -> str:
    fields = {"score": match.score, "title": match.title, "provider": match.provider or "",
              "location": match.location or ""}
    try:
        text = settings.staging.title_template.format_map(fields)
    except (KeyError, IndexError, ValueError) as error:
        raise StagingError(
            f"staging.title_template {settings.staging.title_template!r} cannot be filled "
            f"({type(error).__name__}: {error}); it may use {{score}}, {{title}}, {{provider}}, "
            "{location}"
        ) from None
    return plain_title(text)


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
    markers = [render_marker(MATCH_KIND, source_id(MATCH_KIND, match.key), **(kept_facts or {}),
                             score=match.score, token=match.key_hash)]
    markers += [render_marker(m.kind, m.source, **m.data) for m in carried]
    context = {
        "match": match,
        "facts": _facts(match),
        "extras": _extras(match),
        "icons": ICONS,
        "attachments": list(attachments),
        "labels": {name: state.label for name, state in states.items()},
        "emoji": settings.workflow.emoji,
        "bot": _safe_username(bot_username),
        "marker": Markup("\n".join(markers)),
    }
    limit = settings.staging.max_field_chars
    while True:
        text = render.render("issue.md.j2", max_field_chars=limit, **context)
        if len(text) <= DESCRIPTION_LIMIT or limit <= 100:
            return text
        limit //= 4


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


# --- Writing --------------------------------------------------------------------------------------


def _prepare(settings: Settings, gitlab: GitLab, matches: list[Match]) -> _Cycle:
    """Resolve the reviewer, read the default attachments and make sure every label staging
    uses exists with its colour: every check that can fail on the settings runs before the
    first issue is written, so a misconfiguration never leaves half a cycle staged."""
    defaults = _read_defaults(settings, matches)
    reviewer_id = None
    if settings.staging.reviewer:
        user = gitlab.user_by_username(settings.staging.reviewer)
        if user is None:
            raise StagingError(f"staging.reviewer {settings.staging.reviewer!r} is not a GitLab user")
        reviewer_id = user["id"]
    ensure_labels(settings, gitlab)
    bot = gitlab.bot_user
    return _Cycle(settings, gitlab, bot.id, bot.username, reviewer_id, defaults)


def _read_defaults(settings: Settings, matches: list[Match]) -> dict[str, tuple[str, bytes]]:
    """The default attachments (staging.attachments) the cycle's stageable matches name."""
    wanted = {a.name for m in matches if m.score >= settings.staging.threshold for a in m.attachments if a.is_default}
    files = {}
    for name in sorted(wanted):
        path = settings.staging.attachments.get(name)
        if path is None:
            raise StagingError(f"no default attachment named {name!r} in staging.attachments")
        try:
            files[name] = (Path(path).name, Path(path).read_bytes())
        except OSError as error:
            raise StagingError(f"staging.attachments.{name}: cannot read {path}: {error.strerror}") from None
    return files


def _attach(cycle: _Cycle, attachment: Attachment) -> Attached:
    """Upload one file and return the link to it (the name shown escaped, the URL encoded)."""
    if attachment.is_default:
        file_name, data = cycle.defaults[attachment.name]
    else:
        file_name, data = attachment.safe_name(), attachment.data()
    upload = cycle.gitlab.upload(file_name, data)
    return Attached(name=attachment.name, url=Markup(quote(upload["url"], safe="/:%")))


def _create(cycle: _Cycle, match: Match) -> StageResult:
    settings = cycle.settings
    attached = [_attach(cycle, a) for a in match.attachments]
    description = render_description(settings, match, attached, cycle.bot_username)
    labels = [settings.workflow.marker_label, settings.workflow.states[settings.workflow.initial_state].label]
    labels += [label for label in [score_label(settings, match.score)] if label]
    assignees = [cycle.reviewer_id] if cycle.reviewer_id is not None else []
    issue = cycle.gitlab.create_issue(
        issue_title(settings, match), description, labels, assignee_ids=assignees
    )
    logger.info("staged match #%s (%s %%)", issue["iid"], match.score,
                extra={"event": "staged", "issue": issue["iid"], "score": match.score})
    return _result(match, "created", issue, None)


def _latest_rescore(gitlab: GitLab, iid: int, source: str, bot_id: int) -> int | None:
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
    own = {"score", "score_max", "token"}
    return {name: value for name, value in marker.data.items() if name not in own | stated}


def _score_text(marker: Marker) -> str:
    """The score a `match` marker holds as a person reads it: `85 %`, `75-80 %` (an imported
    range) or `no score` (an imported row without one)."""
    low, high = marker.data.get("score"), marker.data.get("score_max")
    if not isinstance(low, int):
        return "no score"
    return f"{low}-{high} %" if isinstance(high, int) and high != low else f"{low} %"


def _rescore(cycle: _Cycle, match: Match, issue: dict[str, Any], marker: Marker) -> StageResult:
    """A new score: say so in a note (once), then bring title, labels and description up to date.

    The note goes first: if the bot dies between the two writes, the replay still sees the old
    score in the description and finishes the update without a second note.
    """
    settings, gitlab, iid = cycle.settings, cycle.gitlab, issue["iid"]
    source, old = source_id(MATCH_KIND, match.key), marker.data.get("score")
    if _latest_rescore(gitlab, iid, source, cycle.bot_id) != match.score:
        body = render.render(
            "issue/rescored.md.j2",
            old=Markup(_score_text(marker)),  # made of two integers, nothing to escape
            new=match.score,
            marker=Markup(render_marker(RESCORED_KIND, source, to=match.score, **{"from": old})),
        )
        gitlab.create_note(iid, body)
    attached = [_attach(cycle, a) for a in match.attachments]
    new_label = score_label(settings, match.score)
    others = [r.label for r in settings.staging.score_labels if r.label != new_label]
    updated = gitlab.edit_issue(
        iid,
        title=issue_title(settings, match),
        description=render_description(settings, match, attached, cycle.bot_username,
                                       [m for m in parse_markers(issue.get("description")) if m.kind != MATCH_KIND],
                                       _facts_only_the_marker_knows(marker, match)),
        add_labels=",".join([new_label] if new_label else []),
        remove_labels=",".join(others),
    )
    logger.info("rescored match #%s: %s -> %s %%", iid, old, match.score,
                extra={"event": "rescored", "issue": iid, "score": match.score})
    return _result(match, "updated", updated, f"score changed from {_score_text(marker)} to {match.score} %")


def _result(match: Match, outcome: str, issue: dict[str, Any] | None, reason: str | None) -> StageResult:
    return StageResult(
        title=match.title,
        score=match.score,
        key=match.key,
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        iid=issue["iid"] if issue else None,
        url=issue.get("web_url") if issue else None,
    )


def _stage_one(cycle: _Cycle, match: Match) -> StageResult:
    threshold = cycle.settings.staging.threshold
    if match.score < threshold:
        logger.info("skipped match below threshold (%s < %s %%)", match.score, threshold,
                    extra={"event": "skipped", "score": match.score})
        return _result(match, "skipped", None, f"score {match.score} is below the threshold {threshold}")
    found = find_staged(cycle.gitlab, match)
    if found is None:
        return _create(cycle, match)
    issue, marker = found
    if marker.data.get("score") == match.score:
        return _result(match, "unchanged", issue, "already staged with this score")
    return _rescore(cycle, match, issue, marker)


def stage_cycle(runtime: Runtime, matches: list[Match], *, notify: bool = True) -> list[StageResult]:
    """Stage every match of a cycle, in order; then (with `notify`) tell the notifier.

    Raises StagingError (settings), GitLabError (GitLab failed before the first match) or
    CycleInterrupted (GitLab failed for good part-way: the results so far, and the matches not
    staged); matches before the failing one stay staged, and a replay of the cycle finds them.
    """
    with _one_cycle_at_a_time:
        cycle = _prepare(runtime.settings, runtime.gitlab, matches)
        results: list[StageResult] = []
        try:
            for match in matches:
                results.append(_stage_one(cycle, match))
        except GitLabError as error:
            done = len(results)
            reason = f"GitLab failed ({error}); not staged, send it again"
            results += [_result(match, "not_staged", None, reason) for match in matches[done:]]
            logger.warning("cycle interrupted after %d of %d matches: %s", done, len(matches), error,
                           extra={"event": "cycle_interrupted"})
            if notify:
                notify_staged(runtime, results)
            raise CycleInterrupted(error, results) from error
    logger.info(
        "cycle staged: %d created, %d updated, %d unchanged, %d skipped",
        *(sum(r.outcome == o for r in results) for o in ("created", "updated", "unchanged", "skipped")),
        extra={"event": "cycle_staged", "issues_created": sum(r.outcome == "created" for r in results)},
    )
    if notify:
        notify_staged(runtime, results)
    return results


def notify_staged(runtime: Runtime, results: list[StageResult]) -> None:
    """Hand the issues a cycle created to the notifier (when there is one). Its failure must not
    undo or hide the staging: it is logged, and the notifier retries what it owes."""
    created = [r.iid for r in results if r.outcome == "created" and r.iid is not None]
    if not created or runtime.notifier is None:
        return
    try:
        runtime.notifier.on_staged([read_snapshot(runtime.gitlab, iid) for iid in created])
    except Exception:
        logger.exception("notifier failed for staged issues %s", created)
