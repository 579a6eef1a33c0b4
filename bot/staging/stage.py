"""Scored matches become GitLab issues a reviewer can decide on in ten seconds.

Staging is, with `converge_issue`, the only writer. It remembers nothing itself: whether a
match was staged before is asked of GitLab every time (the `match:<key>` marker in a bot-written
description, found through the issues `search` filter and then verified), so a restarted bot, a
second process or the CLI all see the same truth. A replayed cycle changes nothing; a new score
updates the issue once, with one note saying so.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from markupsafe import Markup

from bot.config.settings import Settings
from bot import render
from bot.gitlab_access import GitLabError
from bot.markers import render_marker, source_id, without_markers
from bot.runtime import Runtime
from bot.seams import GitLab
from bot.snapshot import read_snapshot
from bot.staging.attachments import attach, read_defaults
from bot.staging.cycle import Cycle, result
from bot.staging.description import issue_title, render_description, score_label
from bot.staging.errors import StagingError
from bot.staging.labels import ensure_labels
from bot.staging.match import Match, StageResult
from bot.staging.rescore import rescore
from bot.staging.search import MATCH_KIND, find_staged, match_marker

logger = logging.getLogger(__name__)

DUPLICATE_KIND = "duplicate"

# One cycle at a time per process, so two requests carrying the same new match cannot both
# miss each other in GitLab and create it twice.
_one_cycle_at_a_time = threading.Lock()


class CycleInterrupted(GitLabError):
    """GitLab failed for good part-way through a cycle. `results` has one entry per match as
    usual: what was done before the failure, then `not_staged` for the match it hit and the
    rest, so the engine knows what to send again (a replay of the whole cycle is safe too)."""

    def __init__(self, error: GitLabError, results: list[StageResult]):
        super().__init__(error.status, error.message, retry_after=error.retry_after)
        self.results = results


def _prepare(settings: Settings, gitlab: GitLab, matches: list[Match]) -> Cycle:
    """Resolve the reviewer, read the default attachments and make sure every label staging
    uses exists with its colour: every check that can fail on the settings runs before the
    first issue is written, so a misconfiguration never leaves half a cycle staged."""
    defaults = read_defaults(settings, matches)
    reviewer_id = None
    if settings.staging.reviewer:
        user = gitlab.user_by_username(settings.staging.reviewer)
        if user is None:
            raise StagingError(f"staging.reviewer {settings.staging.reviewer!r} is not a GitLab user")
        reviewer_id = user["id"]
    ensure_labels(settings, gitlab)
    bot = gitlab.bot_user
    return Cycle(settings, gitlab, bot.id, bot.username, reviewer_id, defaults)


def _create(cycle: Cycle, match: Match) -> StageResult:
    settings = cycle.settings
    attached = [attach(cycle.gitlab, cycle.defaults, a) for a in match.attachments]
    description = render_description(settings, match, attached, cycle.bot_username)
    labels = [settings.workflow.marker_label, settings.workflow.states[settings.workflow.initial_state].label]
    labels += [label for label in [score_label(settings, match.score)] if label]
    assignees = [cycle.reviewer_id] if cycle.reviewer_id is not None else []
    issue = cycle.gitlab.create_issue(
        issue_title(settings, match), description, labels, assignee_ids=assignees
    )
    original = _older_twin(cycle, match, issue)
    if original is not None:
        _close_as_duplicate(cycle, issue, original, source_id(MATCH_KIND, match.key))
        return result(match, "unchanged", original, f"staged at the same moment by another instance of the bot; "
                                                    f"#{issue['iid']} was closed as its duplicate")
    if match.apply_by is not None:   # the issue's due date while the match waits (bot/followup)
        issue = cycle.gitlab.edit_issue(issue["iid"], due_date=match.apply_by.isoformat())
    logger.info("staged match #%s (%s %%)", issue["iid"], match.score,
                extra={"event": "staged", "issue": issue["iid"], "score": match.score})
    return result(match, "created", issue, None)


def _older_twin(cycle: Cycle, match: Match, issue: dict[str, Any]) -> dict[str, Any] | None:
    """Another issue staged for the same match before `issue` (a lower iid), asked of GitLab
    right after creating `issue`: two instances of the bot given the same cycle at once both
    miss each other before creating, but the younger always finds the older after."""
    wanted = source_id(MATCH_KIND, match.key)
    twins = [found for found in cycle.gitlab.search_issues(match.key_hash)
             if (marker := match_marker(found, cycle.bot_id)) is not None and marker.source == wanted]
    oldest = min(twins, key=lambda found: found["iid"], default=None)
    return oldest if oldest is not None and oldest["iid"] < issue["iid"] else None


def _close_as_duplicate(cycle: Cycle, issue: dict[str, Any], original: dict[str, Any], source: str) -> None:
    """The younger twin steps aside and owes nothing: its match marker (what notifications and
    the next cycle look for) and the review labels go, then GitLab's `/duplicate` closes it
    and links it to the original."""
    workflow, iid = cycle.settings.workflow, issue["iid"]
    labels = [workflow.marker_label, *(state.label for state in workflow.states.values()),
              *(rule.label for rule in cycle.settings.staging.score_labels)]
    cycle.gitlab.edit_issue(iid, description=without_markers(issue.get("description") or "", MATCH_KIND),
                            remove_labels=",".join(labels))
    cycle.gitlab.create_note(iid, render.render("issue/duplicate.md.j2", original=original["iid"],
                                                marker=Markup(render_marker(DUPLICATE_KIND, source, of=original["iid"]))))
    logger.info("match #%s was staged twice at once; closed it as a duplicate of #%s", iid, original["iid"],
                extra={"event": "staged_twice", "issue": iid})


def _stage_one(cycle: Cycle, match: Match) -> StageResult:
    threshold = cycle.settings.staging.threshold
    if match.score < threshold:
        logger.info("skipped match below threshold (%s < %s %%)", match.score, threshold,
                    extra={"event": "skipped", "score": match.score})
        return result(match, "skipped", None, f"score {match.score} is below the threshold {threshold}")
    found = find_staged(cycle.gitlab, match)
    if found is None:
        return _create(cycle, match)
    issue, marker = found
    if marker.data.get("score") == match.score:
        return result(match, "unchanged", issue, "already staged with this score")
    return rescore(cycle, match, issue, marker)


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
            results += [result(match, "not_staged", None, reason) for match in matches[done:]]
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
