"""What every match of one staging cycle shares, and the result of staging one match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config.settings import Settings
from bot.seams import GitLab
from bot.staging.attachments import Defaults
from bot.staging.match import Match, StageResult


@dataclass(frozen=True)
class Cycle:
    """What every match of one cycle shares, read from GitLab once."""

    settings: Settings
    gitlab: GitLab
    bot_id: int
    bot_username: str
    reviewer_id: int | None
    defaults: Defaults


def result(match: Match, outcome: str, issue: dict[str, Any] | None, reason: str | None) -> StageResult:
    return StageResult(
        title=match.title,
        score=match.score,
        key=match.key,
        outcome=outcome,
        reason=reason,
        iid=issue["iid"] if issue else None,
        url=issue.get("web_url") if issue else None,
    )
