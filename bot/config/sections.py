"""The settings' sections (`server`, `workflow`, `staging`, `catch_up`, `logging`) as pydantic
models: each value's type, range and default, and the checks that need more than a type.
`notify` has its own module (bot/config/notify_sections.py); bot/config/settings.py joins them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from bot.config.values import (
    check_emoji_name,
    check_label_name,
    check_state_names,
    check_time_zone,
    check_title_template,
    check_username,
    unset_if_empty,
)

ACCESS_LEVELS: dict[str, int] = {
    "none": 0,
    "minimal": 5,
    "guest": 10,
    "planner": 15,
    "reporter": 20,
    "developer": 30,
    "maintainer": 40,
    "owner": 50,
}



class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")



class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(25 * 1024 * 1024, gt=0)
    max_parallel_issues: int = Field(4, ge=1)
    converge_spacing_seconds: float = Field(0.25, ge=0, le=60)
    converge_retry_seconds: float = Field(30, ge=0)
    shutdown_grace_seconds: float = Field(8, ge=0)
    metrics_token: SecretStr | None = None   # set: GET /metrics needs `Authorization: Bearer <it>`

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return unset_if_empty(value)


class SettingsPageSettings(Section):
    """GET /settings (bot/web/settings_page): people sign in with GitLab through an OAuth
    application the operator registered; without its id, secret and a session secret there is
    no page at all."""

    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    session_secret: SecretStr | None = None   # signs the page's session cookies
    session_hours: float = Field(8, gt=0, le=24 * 7)

    @field_validator("oauth_client_secret", "session_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return unset_if_empty(value)

    @property
    def enabled(self) -> bool:
        return bool(self.oauth_client_id and self.oauth_client_secret and self.session_secret)


class StateSettings(Section):
    label: str
    color: str = "#428BCA"
    description: str = ""

    _label = field_validator("label")(check_label_name)


class TransitionSettings(Section):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_state: str = Field(alias="from")
    to_state: str = Field(alias="to")
    min_access: Literal["guest", "planner", "reporter", "developer", "maintainer", "owner"]


class EmojiSettings(Section):
    enabled: bool = True
    approve: str = "thumbsup"
    reject: str = "thumbsdown"

    _names = field_validator("approve", "reject")(check_emoji_name)


class ConfidentialSettings(Section):
    handle: bool = True
    internal_history: bool = True


class LifecycleSettings(Section):
    """The application's life after sending: how typed times are read, which states close."""

    timezone: str = "UTC"
    close: list[str] = []
    no_reply_days: int = Field(21, ge=1)

    _zone = field_validator("timezone")(check_time_zone)


class WorkflowSettings(Section):
    marker_label: str = "job-match"
    initial_state: str = "pending"
    states: dict[str, StateSettings]
    transitions: list[TransitionSettings]
    emoji: EmojiSettings = EmojiSettings()
    confidential: ConfidentialSettings = ConfidentialSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()

    _label = field_validator("marker_label")(check_label_name)
    _states = field_validator("states")(check_state_names)

    @field_validator("transitions")
    @classmethod
    def _transitions_name_known_states(cls, transitions: list[TransitionSettings], info: ValidationInfo):
        states = info.data.get("states")
        if states is None:
            return transitions  # the states themselves are wrong; that error is reported
        for index, t in enumerate(transitions):
            for end, name in (("from", t.from_state), ("to", t.to_state)):
                if name not in states:
                    raise ValueError(
                        f"entry {index} ({t.from_state} -> {t.to_state}): '{end}' names unknown "
                        f"state {name!r}; known states: {sorted(states)}"
                    )
        return transitions

    @model_validator(mode="after")
    def _initial_state_is_known(self) -> "WorkflowSettings":
        if self.initial_state not in self.states:
            raise ValueError(
                f"initial_state {self.initial_state!r} is not one of the states {sorted(self.states)}"
            )
        unknown = [name for name in self.lifecycle.close if name not in self.states]
        if unknown:
            raise ValueError(f"lifecycle.close names unknown states {unknown}; known: {sorted(self.states)}")
        return self

    def state_of_label(self, label: str) -> str | None:
        for name, state in self.states.items():
            if state.label == label:
                return name
        return None


class ScoreLabel(Section):
    min: int
    label: str
    color: str = "#8FBC8F"

    _label = field_validator("label")(check_label_name)


class StagingSettings(Section):
    threshold: int = Field(70, ge=0, le=100)
    title_template: str = Field("[JOB-MATCH] {score}% — {title}", max_length=255)  # a longer one is cut anyway
    score_labels: list[ScoreLabel] = []
    reviewer: str | None = None
    max_field_chars: int = Field(20000, gt=0)
    attachments: dict[str, Path] = {}

    _template = field_validator("title_template")(check_title_template)
    _reviewer = field_validator("reviewer")(check_username)


class CatchUpSettings(Section):
    interval_minutes: float = Field(10, gt=0)
    first_window_days: float = Field(7, ge=0)
    full_every_hours: float = Field(24, gt=0)
    max_calls_per_minute: int = Field(600, gt=0)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value
