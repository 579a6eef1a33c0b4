"""One settings model for everything the bot reads from outside.

Layers, lowest first: `config/vorhoelle.yml` (defaults shipped with the package), the user's YAML
file (`--config` or `VORHOELLE_CONFIG`), environment variables (`VORHOELLE_GITLAB_TOKEN`,
nested keys with `__`), and keyword arguments (tests). Secrets are `SecretStr` so they never
print by accident.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    @model_validator(mode="after")
    def _readable(self) -> "QuietHours":
        for name in ("start", "end"):
            try:
                time.fromisoformat(getattr(self, name))
            except ValueError:
                raise ValueError(f"quiet_hours.{name} must be HH:MM, got {getattr(self, name)!r}") from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"quiet_hours.timezone {self.timezone!r} is not a known time zone") from None
        return self


class EventRule(_Section):
    """Who hears about one kind of event: a bare list of channels is short for `{channels: [...]}`."""

    channels: list[str] = ["all"]
    min_score: int = Field(0, ge=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _list_is_channels(cls, value: Any) -> Any:
        return {"channels": value} if isinstance(value, list) else value


class ConsoleChannel(_Section):
    enabled: bool = True
    outbox: Path | None = Path("vorhoelle-outbox.jsonl")


class GitLabTodoChannel(_Section):
    enabled: bool = True
    reviewer: str | None = None   # GitLab username; default: staging.reviewer


class SlackChannel(_Section):
    enabled: bool = False
    webhook_url: SecretStr | None = None
    bot_token: SecretStr | None = None
    channel: str | None = None
    api_url: str = "https://slack.com/api/"
    timeout_seconds: float = 10

    @model_validator(mode="after")
    def _one_way_in(self) -> "SlackChannel":
        if self.enabled and not (self.webhook_url or (self.bot_token and self.channel)):
            raise ValueError("slack needs webhook_url, or bot_token and channel")
        return self


class GmailTransport(_Section):
    token_file: Path | None = None            # OAuth user token (authorized_user JSON)
    service_account_file: Path | None = None  # with domain-wide delegation to `sender`
    api_endpoint: str | None = None           # only for tests and proxies


class SmtpTransport(_Section):
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = 30


class SendApplicationSettings(_Section):
    enabled: bool = False
    attachment: str | None = "cv"   # a name from staging.attachments, attached when present


class EmailChannel(_Section):
    enabled: bool = False
    transport: Literal["gmail", "smtp"] = "gmail"
    sender: str | None = None
    to: list[str] = []
    gmail: GmailTransport = GmailTransport()
    smtp: SmtpTransport = SmtpTransport()
    send_application: SendApplicationSettings = SendApplicationSettings()

    @model_validator(mode="after")
    def _addressed(self) -> "EmailChannel":
        if self.enabled and not (self.sender and self.to):
            raise ValueError("email needs sender and at least one address in to")
        if self.enabled and self.transport == "gmail" and not (
            self.gmail.token_file or self.gmail.service_account_file
        ):
            raise ValueError("email via gmail needs gmail.token_file or gmail.service_account_file")
        return self


class WhatsAppChannel(_Section):
    enabled: bool = False
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None   # E.164, e.g. +14155550100 (the "whatsapp:" prefix is added)
    to: list[str] = []
    # WhatsApp allows free text only within 24 h of the recipient's last message; a notifier
    # that writes first must use an approved template (Content SID).
    mode: Literal["template", "free_text"] = "template"
    content_sid: str | None = None
    api_url: str | None = None       # only for tests: where the Twilio API is

    @model_validator(mode="after")
    def _complete(self) -> "WhatsAppChannel":
        if not self.enabled:
            return self
        if not (self.account_sid and self.auth_token and self.from_number and self.to):
            raise ValueError("whatsapp needs account_sid, auth_token, from_number and to")
        if self.mode == "template" and not self.content_sid:
            raise ValueError("whatsapp in template mode needs content_sid (or mode: free_text)")
        return self


class NotifyChannels(_Section):
    console: ConsoleChannel = ConsoleChannel()
    gitlab_todo: GitLabTodoChannel = GitLabTodoChannel()
    slack: SlackChannel = SlackChannel()
    email: EmailChannel = EmailChannel()
    whatsapp: WhatsAppChannel = WhatsAppChannel()


class RetrySettings(_Section):
    attempts: int = Field(3, ge=1)
    max_wait_seconds: float = Field(30, ge=0)
    report_after_rounds: int = Field(3, ge=1)   # failed rounds before the admin hears of it
    rest_max_minutes: float = Field(60, gt=0)   # longest pause before trying a failing channel


class NotifySettings(_Section):
    """What the reviewer hears, where, and when (bot/notify)."""

    batch: bool = True
    batch_seconds: float = Field(60, ge=0)   # how long a fresh staged match waits for its cycle
    quiet_hours: QuietHours | None = None
    admin_channel: str | None = None
    max_age_days: float = Field(7, gt=0)     # older events are history, not news
    notes_per_minute: int = Field(50, ge=1)  # GitLab.com allows 60 note creations a minute
    owed_label: str = "vorhoelle/notify-owed"
    events: dict[str, EventRule] = {}
    channels: NotifyChannels = NotifyChannels()
    retry: RetrySettings = RetrySettings()


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
