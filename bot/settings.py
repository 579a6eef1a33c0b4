"""One settings model for everything the bot reads from outside.

Layers, lowest first: `config/vorhoelle.yml` (defaults shipped with the package), the user's YAML
file (`--config` or `VORHOELLE_CONFIG`), environment variables (`VORHOELLE_GITLAB_TOKEN`,
nested keys with `__`), and keyword arguments (tests). Secrets are `SecretStr` so they never
print by accident.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.resources import resource_dir

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 25 * 1024 * 1024
    max_parallel_issues: int = Field(4, ge=1)
    shutdown_grace_seconds: float = 10


class StateSettings(_Section):
    label: str
    color: str = "#428BCA"
    description: str = ""


class TransitionSettings(_Section):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_state: str = Field(alias="from")
    to_state: str = Field(alias="to")
    min_access: Literal["guest", "planner", "reporter", "developer", "maintainer", "owner"]


class EmojiSettings(_Section):
    enabled: bool = True
    approve: str = "thumbsup"
    reject: str = "thumbsdown"


class ConfidentialSettings(_Section):
    handle: bool = True
    internal_history: bool = True


class WorkflowSettings(_Section):
    marker_label: str = "job-match"
    initial_state: str = "pending"
    states: dict[str, StateSettings]
    transitions: list[TransitionSettings]
    emoji: EmojiSettings = EmojiSettings()
    confidential: ConfidentialSettings = ConfidentialSettings()

    @model_validator(mode="after")
    def _transitions_name_known_states(self) -> "WorkflowSettings":
        known = set(self.states)
        if self.initial_state not in known:
            raise ValueError(f"initial_state {self.initial_state!r} is not one of the states {sorted(known)}")
        for t in self.transitions:
            for name in (t.from_state, t.to_state):
                if name not in known:
                    raise ValueError(f"transition {t.from_state}->{t.to_state} names unknown state {name!r}; known: {sorted(known)}")
        return self

    def state_of_label(self, label: str) -> str | None:
        for name, state in self.states.items():
            if state.label == label:
                return name
        return None


class ScoreLabel(_Section):
    min: int
    label: str
    color: str = "#8FBC8F"


class StagingSettings(_Section):
    threshold: int = Field(70, ge=0, le=100)
    title_template: str = "[JOB-MATCH] {score}% — {title}"
    score_labels: list[ScoreLabel] = []
    reviewer: str | None = None
    max_field_chars: int = 20000
    attachments: dict[str, Path] = {}


class CatchUpSettings(_Section):
    interval_minutes: float = Field(10, gt=0)
    first_window_days: float = Field(7, ge=0)


class QuietHours(_Section):
    start: str
    end: str
    timezone: str = "UTC"


class NotifySettings(BaseModel):
    """Channel sections are free-form here; each channel validates its own (bot/notify)."""

    model_config = ConfigDict(extra="allow")
    batch: bool = True
    quiet_hours: QuietHours | None = None
    admin_channel: str | None = None
    events: dict[str, list[str]] = {}
    channels: dict[str, dict[str, Any]] = {}


class LoggingSettings(_Section):
    level: str = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


def default_config_file() -> Path:
    return resource_dir("config") / "vorhoelle.yml"


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be a mapping of settings")
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge mappings key by key; lists and scalars in `override` replace those in `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _YamlLayers(PydanticBaseSettingsSource):
    """The shipped defaults with the user's file merged on top."""

    def __init__(self, settings_cls: type[BaseSettings], user_file: Path | None):
        super().__init__(settings_cls)
        self.user_file = user_file

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data = _read_yaml(default_config_file())
        if self.user_file is not None:
            data = deep_merge(data, _read_yaml(self.user_file))
        return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VORHOELLE_", env_nested_delimiter="__", extra="forbid"
    )

    gitlab_url: str | None = None
    gitlab_token: SecretStr | None = None
    project: str | None = None
    webhook_secret: SecretStr | None = None
    api_token: SecretStr | None = None
    public_url: str | None = None

    server: ServerSettings = ServerSettings()
    workflow: WorkflowSettings
    staging: StagingSettings = StagingSettings()
    catch_up: CatchUpSettings = CatchUpSettings()
    notify: NotifySettings = NotifySettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return (init_settings, env_settings, _YamlLayers(settings_cls, None))


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from every layer. `config_file` wins over VORHOELLE_CONFIG."""
    chosen = config_file or os.environ.get("VORHOELLE_CONFIG")
    user_file = Path(chosen) if chosen else None

    class _WithUserFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ):
            return (init_settings, env_settings, _YamlLayers(settings_cls, user_file))

    return _WithUserFile(**overrides)
