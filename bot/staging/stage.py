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

from bot.config.settings import Settings
from bot.gitlab_access import GitLabError
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
from bot.staging.search import find_staged

logger = logging.getLogger(__name__)

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
    logger.info("staged match #%s (%s %%)", issue["iid"], match.score,
                extra={"event": "staged", "issue": issue["iid"], "score": match.score})
    return result(match, "created", issue, None)


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
