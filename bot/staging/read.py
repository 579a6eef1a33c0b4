"""Staged matches read back from GitLab: one, or a filtered page of them (API and CLI).

A job match is an issue carrying the marker label. Its score and key come from the `match`
marker the bot wrote into the description (an issue labelled by hand has neither); its state
from the workflow's state labels. Nothing is cached: GitLab is asked every time.
"""

from __future__ import annotations

from typing import Any

from bot.config.settings import Settings
from bot.runtime import Runtime
from bot.staging.match import MatchDetail, MatchPage, MatchSummary
from bot.staging.search import match_marker


def _source_key(source: str) -> str:
    return source.split(":", 1)[1] if ":" in source else source


def summarize(settings: Settings, issue: dict[str, Any], bot_id: int) -> MatchSummary:
    marker = match_marker(issue, bot_id)
    states = [settings.workflow.state_of_label(label) for label in issue.get("labels") or ()]
    score = marker.data.get("score") if marker else None
    return MatchSummary(
        iid=issue["iid"],
        title=issue.get("title") or "",
        url=issue.get("web_url") or "",
        state=next((s for s in states if s), None),
        gitlab_state=issue.get("state") or "opened",
        score=score if isinstance(score, int) else None,
        key=_source_key(marker.source) if marker else None,
        labels=list(issue.get("labels") or ()),
        assignees=[a.get("username", "") for a in issue.get("assignees") or ()],
        created_at=issue.get("created_at"),
        updated_at=issue.get("updated_at"),
    )


def get_staged(runtime: Runtime, iid: int) -> MatchDetail | None:
    """One staged match, or None when the issue is not a job match (GitLab's 404 passes up)."""
    issue = runtime.gitlab.get_issue(iid)
    if runtime.settings.workflow.marker_label not in (issue.get("labels") or ()):
        return None
    summary = summarize(runtime.settings, issue, runtime.gitlab.bot_user.id)
    return MatchDetail(**summary.model_dump(), description=issue.get("description") or "")


def check_state(settings: Settings, state: str | None) -> None:
    if state is not None and state not in settings.workflow.states:
        known = ", ".join(settings.workflow.states)
        raise ValueError(f"unknown state {state!r}; known states: {known}")


def list_staged(
    runtime: Runtime,
    *,
    state: str | None = None,
    min_score: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> MatchPage:
    """Newest first. Without `min_score` GitLab paginates (and counts, when it does); a score
    filter cannot be asked of GitLab, so then every job match is read and the page cut here."""
    settings, gitlab = runtime.settings, runtime.gitlab
    check_state(settings, state)
    labels = [settings.workflow.marker_label]
    if state is not None:
        labels.append(settings.workflow.states[state].label)
    bot_id = gitlab.bot_user.id
    if min_score is None:
        rows, totals = gitlab.issues_page(labels=labels, page=page, per_page=per_page)
        items = [summarize(settings, issue, bot_id) for issue in rows]
        return MatchPage(items=items, page=page, per_page=per_page, **totals)
    every = (summarize(settings, issue, bot_id) for issue in gitlab.iter_issues(labels=labels, order_by="created_at", sort="desc"))
    kept = [item for item in every if item.score is not None and item.score >= min_score]
    start = (page - 1) * per_page
    total_pages = -(-len(kept) // per_page)
    return MatchPage(
        items=kept[start : start + per_page],
        page=page,
        per_page=per_page,
        total=len(kept),
        total_pages=total_pages,
        next_page=page + 1 if page < total_pages else None,
    )
