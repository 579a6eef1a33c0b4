"""What the match engine hands the bot: one `Match` per job posting, scored.

Only `title` and `score` are required; every other field is optional because engines differ.
Fields this model does not know are kept (`extra="allow"`) and shown in the issue's details
block, never dropped. The models double as the API's schema (bot/api/openapi.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator, model_validator

MAX_CYCLE = 200
"""Most matches one request (a cycle) may carry."""

MAX_KEY = 2048
"""Longest match key kept as it is (browsers and servers cap URLs at about this length)."""

_SAFE_FILE_NAME = re.compile(r"[^\w.\-]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Rate(_Strict):
    """What the job pays, e.g. 95 EUR per hour."""

    amount: float = Field(ge=0)
    currency: str = Field("EUR", min_length=1, max_length=10)
    unit: str = Field("h", min_length=1, max_length=20, description="h, day, month, year, ...")

    def __str__(self) -> str:
        amount = f"{self.amount:g}"
        return f"{amount} {self.currency}/{self.unit}"


class Contact(_Strict):
    name: str | None = Field(None, max_length=500)
    email: str | None = Field(None, max_length=500)


class Requirement(_Strict):
    """One line of the score breakdown."""

    requirement: str = Field(min_length=1)
    weight: float | None = Field(None, ge=0)
    met: Literal["met", "partial", "missing"]
    comment: str | None = None


class Attachment(_Strict):
    """A file to upload with the issue: its name and base64 content, or a default's name.

    Without `content`, `name` names a default attachment from settings.staging.attachments
    (e.g. `cv`); the API also accepts that name alone, as a string.
    """

    name: str = Field(min_length=1, max_length=255)
    content: str | None = Field(None, description="The file's bytes, base64-encoded.")

    @field_validator("content")
    @classmethod
    def _is_base64(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
        return value

    @model_validator(mode="after")
    def _default_is_known(self, info: ValidationInfo) -> "Attachment":
        known = (info.context or {}).get("attachments")
        if self.content is None and known is not None and self.name not in known:
            names = ", ".join(sorted(known)) or "none are configured"
            raise ValueError(f"unknown default attachment {self.name!r} (known: {names})")
        return self

    @property
    def is_default(self) -> bool:
        return self.content is None

    def data(self) -> bytes:
        return base64.b64decode(self.content or "")

    def safe_name(self) -> str:
        """The name reduced to letters, digits, `.`, `-` and `_`, as GitLab stores uploads."""
        return _SAFE_FILE_NAME.sub("_", self.name).strip("._") or "attachment"


class Match(BaseModel):
    """One scored job posting."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    title: str = Field(min_length=1, description="The job's title.")
    score: int = Field(ge=0, le=100, description="How well the job fits, in percent.")
    provider: str | None = Field(None, description="Who offers the job (client or agency).")
    location: str | None = None
    remote: bool | str | None = Field(None, description="true, false, or e.g. '80 %'.")
    start: str | None = Field(None, description="When the job starts, e.g. 2025-03-01 or ASAP.")
    duration: str | None = None
    apply_by: date | None = Field(None, description="The last day to apply (YYYY-MM-DD): a reminder comes "
                                  "follow_up.deadline_days_before days ahead; the issue's due date.")
    rate: Rate | None = None
    url: str | None = Field(None, description="The posting; identifies the match when present.")
    contact: Contact | None = None
    requirements: list[Requirement] = Field(default_factory=list, max_length=200)
    notes: str | None = None
    draft: str | None = Field(None, description="The cover letter draft.")
    skills: list[str] = Field(default_factory=list, max_length=200)
    cycle_id: str | None = Field(None, max_length=200)
    attachments: list[Attachment] = Field(
        default_factory=list,
        max_length=20,
        description="Files to upload: {name, content} or the name of a default attachment "
        "from settings.staging.attachments (e.g. 'cv').",
    )

    @field_validator("score", mode="before")
    @classmethod
    def _score_is_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic would read true as 1 %
            raise ValueError("the score must be a number from 0 to 100, not true/false")
        return value

    @field_validator("attachments", mode="before", json_schema_input_type=list[Attachment | str])
    @classmethod
    def _names_are_defaults(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @property
    def key(self) -> str:
        """What identifies the job across cycles: its URL, else `title|provider` normalised.

        A key longer than MAX_KEY (no real URL is) is replaced by its SHA-256, so the marker
        that carries it stays small.
        """
        if self.url:
            key = self.url
        else:
            key = "|".join(" ".join((part or "").lower().split()) for part in (self.title, self.provider))
        if len(key) > MAX_KEY:
            return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return key

    @property
    def key_hash(self) -> str:
        """A short token for the key: searchable in GitLab whatever the key's characters."""
        return hashlib.sha256(self.key.encode("utf-8", "surrogatepass")).hexdigest()[:24]

    @property
    def extras(self) -> dict[str, Any]:
        """Fields the model does not know, kept for the issue's details block."""
        return dict(self.model_extra or {})


Cycle = Annotated[list[Match], Field(min_length=1, max_length=MAX_CYCLE)]
_CYCLE = TypeAdapter(Cycle)


def parse_matches(data: Any, *, attachments: set[str] | None = None) -> list[Match]:
    """One match (a mapping) or a cycle (a list), validated; `attachments` names the known defaults.

    Raises pydantic's ValidationError: its locations name the field, preceded by the position
    in the list when a list was given.
    """
    context = {"attachments": attachments} if attachments is not None else None
    if isinstance(data, list):
        return _CYCLE.validate_python(data, context=context)
    return [Match.model_validate(data, context=context)]


StageOutcome = Literal["created", "updated", "unchanged", "skipped", "not_staged"]


class StageResult(BaseModel):
    """What staging did with one match."""

    title: str
    score: int
    key: str = Field(description="What identifies the match: its URL, else title|provider.")
    outcome: StageOutcome
    reason: str | None = Field(None, description="Why it was skipped, updated or left alone.")
    iid: int | None = None
    url: str | None = Field(None, description="The issue in GitLab.")


class MatchSummary(BaseModel):
    """A staged match as GitLab shows it now."""

    iid: int
    title: str
    url: str = Field(description="The issue in GitLab.")
    state: str | None = Field(description="Workflow state (pending, approved, ...) from the labels.")
    gitlab_state: str = Field(description="opened or closed.")
    score: int | None = Field(description="The score the issue was last staged with.")
    key: str | None = Field(description="What identifies the match: its URL, else title|provider.")
    labels: list[str]
    assignees: list[str]
    created_at: str | None = None
    updated_at: str | None = None


class MatchDetail(MatchSummary):
    description: str


class MatchPage(BaseModel):
    """One page of staged matches; totals are null when GitLab does not give them."""

    items: list[MatchSummary]
    page: int
    per_page: int
    total: int | None = None
    total_pages: int | None = None
    next_page: int | None = None
