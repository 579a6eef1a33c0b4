"""The API's own request and response shapes (the match shapes live in bot/staging/match.py).

They validate what comes in and are the source of the OpenAPI document, so the documentation
cannot drift from what the code accepts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    action: Literal["approve", "reject", "reply", "interview", "offer", "hired", "decline", "turned-down", "withdraw"]
    reason: str | None = Field(None, max_length=2000, description="Shown in the history note: the reason, "
                               "the reply's summary (reply), the terms (offer), a note (interview).")
    when: str | None = Field(None, max_length=100, description="interview: when, as a person types it "
                             "(2026-12-10 14:00, 10.12. 14:00, tomorrow 9:30), in workflow.lifecycle.timezone.")
    with_: str | None = Field(None, alias="with", max_length=500, description="interview: with whom.")

    @model_validator(mode="after")
    def _complete(self) -> "ActionRequest":
        if self.action == "interview" and not self.when:
            raise ValueError("interview needs `when`, e.g. \"2026-12-10 14:00\"")
        if self.action in ("reply", "offer") and not self.reason:
            raise ValueError(f"{self.action} needs `reason` (the {'summary' if self.action == 'reply' else 'terms'})")
        if self.action != "interview" and (self.when or self.with_):
            raise ValueError("`when` and `with` belong to interview only")
        return self


ActionOutcome = Literal["applied", "refused", "already handled"]


class ActionResponse(BaseModel):
    request_id: str = Field(description="The Idempotency-Key sent, or one made up; a retry with "
                            "the same key is applied once.")
    action: str
    outcome: ActionOutcome
    why: str | None = Field(None, description=(
        "Why the workflow refused: forbidden, no_right, already, ...; unseen_changes: the recipient or "
        "draft was last changed by someone below send's right (confirm with `/confirm-send` in GitLab)"))
    match: MatchSummary = Field(description="The match after the action was applied (or refused).")


class ConfigView(BaseModel):
    """The effective settings; every secret is shown as `**********`."""

    model_config = ConfigDict(extra="allow")
