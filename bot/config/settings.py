"""One settings model for everything the bot reads from outside.

Layers, lowest first:
1. `config/vorhoelle.yml`, the defaults shipped with the package;
2. the user's YAML file (`--config FILE` or `VORHOELLE_CONFIG`);
3. the project's own `.vorhoelle.yml` (non-secret settings only, see bot/config/project_file.py);
4. environment variables (`VORHOELLE_GITLAB_TOKEN`, nested keys with `__` such as
   `VORHOELLE_STAGING__THRESHOLD=80`, and one variable per channel secret, `SECRET_ENV`);
5. secret files, as container platforms mount them: `VORHOELLE_GITLAB_TOKEN_FILE=/run/secrets/x`
   for every name in `SECRET_ENV`;
6. keyword arguments (tests).

A mistake anywhere is a `ConfigError` whose lines say where (`file:line` or the variable's name)
and what to do; secrets are `SecretStr` or masked by name, so they never print by accident.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.config.files import (
    ENV_PREFIX,
    ConfigError,
    YamlLayer,
    deep_merge,
    nest,
    settings_files,
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

# Secrets with a variable of their own (`VORHOELLE_<NAME>`, or `VORHOELLE_<NAME>_FILE` naming a
# file that holds it), and where each lands in the settings.
SECRET_ENV: dict[str, tuple[str, ...]] = {
    "GITLAB_TOKEN": ("gitlab_token",),
    "WEBHOOK_SECRET": ("webhook_secret",),
    "WEBHOOK_SIGNING_KEY": ("webhook_signing_key",),
    "API_TOKEN": ("api_token",),
    "SLACK_TOKEN": ("notify", "channels", "slack", "bot_token"),
    "SLACK_WEBHOOK_URL": ("notify", "channels", "slack", "webhook_url"),
    "TWILIO_AUTH_TOKEN": ("notify", "channels", "whatsapp", "auth_token"),
    "SMTP_PASSWORD": ("notify", "channels", "email", "smtp", "password"),
}
# Not secrets, but deployment details that belong with them in the environment.
DEPLOYMENT_ENV: dict[str, tuple[str, ...]] = {
    "GMAIL_TOKEN_FILE": ("notify", "channels", "email", "gmail", "token_file"),
    "TWILIO_ACCOUNT_SID": ("notify", "channels", "whatsapp", "account_sid"),
}
MASK = "**********"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(25 * 1024 * 1024, gt=0)
    max_parallel_issues: int = Field(4, ge=1)
    converge_spacing_seconds: float = Field(0.25, ge=0, le=60)
    converge_retry_seconds: float = Field(30, ge=0)
    shutdown_grace_seconds: float = Field(10, ge=0)


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
    max_field_chars: int = Field(20000, gt=0)
    attachments: dict[str, Path] = {}


class CatchUpSettings(_Section):
    interval_minutes: float = Field(10, gt=0)
    first_window_days: float = Field(7, ge=0)


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHours(_Section):
    start: str
    end: str
    timezone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _is_clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value.strip()):
            raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. \"22:00\"")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _is_known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone; use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value


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

    @model_validator(mode="after")
    def _events_name_known_channels(self) -> "NotifySettings":
        known = sorted(NotifyChannels.model_fields)
        for event, rule in self.events.items():
            for name in rule.channels:
                if name != "all" and name not in known:
                    raise ValueError(
                        f"events.{event} names unknown channel {name!r}; use 'all' or one of {known}"
                    )
        texts = [name for name in known if name != "gitlab_todo"]
        if self.admin_channel == "gitlab_todo":
            raise ValueError(f"admin_channel 'gitlab_todo' cannot carry the bot's health reports (a to-do "
                             f"has no text); use one of {texts}")
        if self.admin_channel is not None and self.admin_channel not in known:
            raise ValueError(f"admin_channel {self.admin_channel!r} is not one of the channels {texts}")
        return self


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


# --- The environment's own names --------------------------------------------------------------


def _read_secret_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"{variable}={path}: cannot read the secret file: {exc.strerror}"]) from None


class _NamedEnv(PydanticBaseSettingsSource):
    """`SECRET_ENV` and `DEPLOYMENT_ENV` variables, or with `files=True` the `*_FILE` variants."""

    def __init__(self, settings_cls: type[BaseSettings], files: bool):
        super().__init__(settings_cls)
        self.files = files

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        names = SECRET_ENV if self.files else {**SECRET_ENV, **DEPLOYMENT_ENV}
        for name, path in names.items():
            variable = f"{ENV_PREFIX}{name}_FILE" if self.files else f"{ENV_PREFIX}{name}"
            value = os.environ.get(variable)
            if value is None or (len(path) == 1 and not self.files):
                continue  # flat fields are read by pydantic-settings' own environment source
            if self.files:
                value = _read_secret_file(variable, value)
            data = deep_merge(data, nest(path, value))
        return data


class _YamlSource(PydanticBaseSettingsSource):
    """The YAML layers, later ones merged over earlier ones."""

    def __init__(self, settings_cls: type[BaseSettings], layers: list[YamlLayer]):
        super().__init__(settings_cls)
        self.layers = layers

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for layer in self.layers:
            data = deep_merge(data, layer.data)
        return data


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    gitlab_url: str | None = None
    gitlab_token: SecretStr | None = None
    project: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_signing_key: SecretStr | None = None  # `whsec_<base64>`: verify webhook-signature
    api_token: SecretStr | None = None
    public_url: str | None = None

    server: ServerSettings = ServerSettings()
    workflow: WorkflowSettings
    staging: StagingSettings = StagingSettings()
    catch_up: CatchUpSettings = CatchUpSettings()
    notify: NotifySettings = NotifySettings()
    logging: LoggingSettings = LoggingSettings()

    @field_validator("notify")
    @classmethod
    def _events_can_happen(cls, notify: NotifySettings, info: ValidationInfo) -> NotifySettings:
        """A rule for an event that never happens (a typo) would silence that event unnoticed."""
        workflow = info.data.get("workflow")
        if workflow is None:
            return notify  # the workflow itself is wrong; that error is reported
        known = ["staged", "refused", *sorted(workflow.states)]
        for event in notify.events:
            if event not in known:
                guess = difflib.get_close_matches(event, known, n=1)
                hint = f"did you mean {guess[0]!r}? " if guess else ""
                raise ValueError(
                    f"events.{event} is not an event; {hint}Events: staged, refused, and one per "
                    f"workflow state: {', '.join(sorted(workflow.states))}"
                )
        return notify

    # How these settings were made, so that a new project file can be laid over the same layers.
    _config_file: Path | None = PrivateAttr(None)
    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> "Settings":
        """A copy whose `update` survives `with_project_file` (e.g. the demo's sandbox GitLab)."""
        copy = super().model_copy(update=update, deep=deep)
        copy._overrides = {**self._overrides, **(update or {})}
        return copy

    def with_project_file(self, project_file: YamlLayer | None) -> "Settings":
        """The same layers again, with `project_file` (the project's .vorhoelle.yml) in place."""
        return load_settings(self._config_file, project_file=project_file, **self._overrides)


def load_settings(
    config_file: str | Path | None = None,
    *,
    project_file: YamlLayer | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from every layer. `config_file` wins over VORHOELLE_CONFIG.

    Raises ConfigError with one line per problem, each saying where it was written.
    """
    user_file, layers = settings_files(config_file)
    if project_file is not None:
        layers.append(project_file)

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ):
            return (
                init_settings,
                _NamedEnv(settings_cls, files=True),
                _NamedEnv(settings_cls, files=False),
                env_settings,
                _YamlSource(settings_cls, layers),
            )

    try:
        settings = _Layered(**overrides)
    except ValidationError as exc:
        raise ConfigError([_explain(error, layers, overrides) for error in exc.errors()]) from None
    settings._config_file = user_file
    settings._overrides = overrides
    return settings


# --- Saying where a bad value came from -------------------------------------------------------


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _origin(loc: tuple[Any, ...], layers: list[YamlLayer], overrides: dict[str, Any]) -> str:
    """Where the value at `loc` was written, highest layer first (the one that won)."""
    if loc and loc[0] in overrides:
        return f"keyword argument {loc[0]}"
    for name, path in SECRET_ENV.items():
        if loc[: len(path)] == path:
            for variable in (f"{ENV_PREFIX}{name}_FILE", f"{ENV_PREFIX}{name}"):
                if variable in os.environ:
                    return f"environment variable {variable}"
    for depth in range(len(loc), 0, -1):
        variable = ENV_PREFIX + "__".join(str(part) for part in loc[:depth]).upper()
        if variable in os.environ:
            return f"environment variable {variable}"
    for layer in reversed(layers):
        line = layer.line_of(loc)
        if line is not None:
            return f"{layer.name}:{line}"
    return "settings"


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The model class holding the settings at `loc`, or None where the settings are free-form."""
    model: Any = Settings
    parts = list(loc)
    while parts:
        info = getattr(model, "model_fields", {}).get(parts.pop(0))
        if info is None:
            return None
        annotation = info.annotation
        if get_origin(annotation) in (dict, list):
            if not parts:
                return None
            parts.pop(0)  # the mapping's key or the list's index
            annotation = get_args(annotation)[-1]
        model = next((t for t in (annotation, *get_args(annotation)) if hasattr(t, "model_fields")), None)
    return model


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The setting names allowed at `loc`, for "did you mean"."""
    fields = getattr(_model_at(loc), "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def is_secret_path(loc: tuple[Any, ...]) -> bool:
    """Whether the setting at `loc` is a secret (typed `SecretStr`)."""
    info = getattr(_model_at(loc[:-1]), "model_fields", {}).get(loc[-1]) if loc else None
    return info is not None and SecretStr in (info.annotation, *get_args(info.annotation))


def _explain(error: dict[str, Any], layers: list[YamlLayer], overrides: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = _origin(loc, layers, overrides)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, _known_keys(loc[:-1]), n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known: {', '.join(_known_keys(loc[:-1]))}"
        return f"{where}: unknown setting {_dotted(loc)!r}; {hint}"
    if error["type"] == "missing":
        return f"{where}: {_dotted(loc)} is required but not set"
    shown = "" if error["type"] == "value_error" else _shown(error, loc)  # ours name the value
    return f"{where}: {_dotted(loc)}: {message}{shown}{_secret_hint(loc)}"


def _secret_hint(loc: tuple[Any, ...]) -> str:
    """Name the variables that can give the secrets inside `loc`, e.g. an enabled channel."""
    names = [f"{ENV_PREFIX}{name}" for name, path in SECRET_ENV.items() if path[: len(loc)] == loc]
    if not names or len(loc) < 2:
        return ""
    return f" (secrets: set {' or '.join(names)}, or the same names with _FILE)"


def _shown(error: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """The offending input, unless it is (or sits in) a secret."""
    value = error.get("input")
    if is_secret_path(loc) or isinstance(value, (dict, list)) or value is None:
        return ""
    return f" (got {value!r})"


# --- Secrets: shown masked, and known to the log filter ---------------------------------------


def public_view(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, every secret shown as `**********`."""
    return settings.model_dump(mode="json", by_alias=True)


def secret_values(settings: Settings) -> set[str]:
    """Every secret's actual text (for the log redaction filter)."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4:
            found.add(value.get_secret_value())  # shorter ones would blank out ordinary words
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)

    collect(settings.model_dump())
    return found
