"""The API's own request and response shapes (the match shapes live in bot/staging/match.py).

They validate what comes in and are the source of the OpenAPI document, so the documentation
cannot drift from what the code accepts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.staging.match import MatchSummary, StageResult


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in a few words.")
    detail: Any = Field(None, description="Why, or what to do about it.")


class Problem(BaseModel):
    loc: list[str | int] = Field(description="Where: the field's path, list positions included.")
    msg: str


class InvalidBody(BaseModel):
    error: str = Field(description="`invalid match`, `invalid query` or `invalid action`.")
    details: list[Problem]


class StageResponse(BaseModel):
    results: list[StageResult] = Field(description="One per match, in the order sent.")
    created: int
    updated: int
    unchanged: int
    skipped: int
    not_staged: int = Field(0, description="Matches GitLab's failure kept from being staged.")


OUTCOMES = tuple(name for name in StageResponse.model_fields if name != "results")


class StagePartial(StageResponse):
    error: str = Field(description="`GitLab failed part-way through the cycle`.")
    detail: Any = Field(None, description="GitLab's answer.")


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str | None = Field(None, description="A workflow state, e.g. pending.")
    min_score: int | None = Field(None, ge=0, le=100)
    page: int = Field(1, ge=1)
    per_page: int = Field(20, ge=1, le=100)


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Literal["approve", "reject"]
    reason: str | None = Field(None, max_length=2000, description="Shown in the history note.")


ActionOutcome = Literal["applied", "refused", "already handled"]


class ActionResponse(BaseModel):
    request_id: str = Field(description="The Idempotency-Key sent, or one made up; a retry with "
                            "the same key is applied once.")
    action: str
    outcome: ActionOutcome
    why: str | None = Field(None, description="Why the workflow refused: forbidden, no_right, already, ...")
    match: MatchSummary = Field(description="The match after the action was applied (or refused).")


class ConfigView(BaseModel):
    """The effective settings; every secret is shown as `**********`."""

    model_config = ConfigDict(extra="allow")
