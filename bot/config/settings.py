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

The pieces: bot/config/sections.py and notify_sections.py (the models), values.py (checks for
values rendered into GitLab), sources.py (environment and secret files), explain.py (error
lines), masking.py (secrets shown masked), trust.py (what the project file may change).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.explain import explain_error, origin
from bot.config.files import ENV_PREFIX, ConfigError, YamlLayer, settings_files
from bot.config.notify_sections import (
    ConsoleChannel,
    EmailChannel,
    EventRule,
    NotifySettings,
    QuietHours,
    SlackChannel,
    SmtpTransport,
    WhatsAppChannel,
)
from bot.config.sections import (
    ACCESS_LEVELS,
    CatchUpSettings,
    FollowUpSettings,
    LoggingSettings,
    RepliesSettings,
    ServerSettings,
    SettingsPageSettings,
    StagingSettings,
    WorkflowSettings,
)
from bot.config.review import ReviewSettings
from bot.config.sources import NamedEnv, YamlSource
from bot.config.trust import Verdict, looser, restrict
from bot.config.values import unset_if_empty

# The models most modules read are importable from here, where the settings are built.
__all__ = [
    "ACCESS_LEVELS", "ConsoleChannel", "EmailChannel", "EventRule", "QuietHours", "Settings", "SlackChannel",
    "SmtpTransport", "WhatsAppChannel", "WorkflowSettings", "load_settings",
]

def notify_events(workflow: WorkflowSettings) -> list[str]:
    """The events a `notify.events` rule can name: staged, refused, reply, bounced, reminder, one per state."""
    return ["staged", "refused", "reply", "bounced", "reminder", *sorted(workflow.states)]


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
    follow_up: FollowUpSettings = FollowUpSettings()
    notify: NotifySettings = NotifySettings()
    replies: RepliesSettings = RepliesSettings()
    logging: LoggingSettings = LoggingSettings()
    review: ReviewSettings = ReviewSettings()
    settings_page: SettingsPageSettings = SettingsPageSettings()

    @field_validator("gitlab_token", "webhook_secret", "webhook_signing_key", "api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return unset_if_empty(value)

    @field_validator("notify")
    @classmethod
    def _events_can_happen(cls, notify: NotifySettings, info: ValidationInfo) -> NotifySettings:
        """A rule for an event that never happens (a typo) would silence that event unnoticed."""
        workflow = info.data.get("workflow")
        if workflow is None:
            return notify  # the workflow itself is wrong; that error is reported
        known = notify_events(workflow)
        for event in notify.events:
            if event not in known:
                guess = difflib.get_close_matches(event, known, n=1)
                hint = f"did you mean {guess[0]!r}? " if guess else ""
                raise ValueError(
                    f"events.{event} is not an event; {hint}Events: staged, refused, reply, reminder, and one per "
                    f"workflow state: {', '.join(sorted(workflow.states))}"
                )
        return notify

    # How these settings were made, so that a new project file can be laid over the same layers.
    _config_file: Path | None = PrivateAttr(None)
    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)
    _trust: list[Verdict] = PrivateAttr(default_factory=list)

    @property
    def trust_verdicts(self) -> list[Verdict]:
        """What became of the trusted settings the project file changed (bot/config/trust.py)."""
        return list(self._trust)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "Settings":
        """A copy whose `update` survives `with_project_file` (e.g. the demo's sandbox GitLab)."""
        copy = super().model_copy(update=update, deep=deep)
        copy._overrides = {**self._overrides, **(update or {})}
        return copy

    def with_project_file(self, project_file: YamlLayer | None) -> "Settings":
        """The same layers again, with `project_file` (the project's .vorhoelle.yml) in place."""
        return load_settings(self._config_file, project_file=project_file, **self._overrides)

    def origin_of(self, loc: tuple[str, ...], project_file: YamlLayer | None = None) -> str:
        """Where the value at `loc` was written, in `config check`'s words: a file and line, a
        variable, a keyword argument, or "settings" (the model's own default)."""
        _, layers = settings_files(self._config_file)
        return origin(loc, [*layers, *([project_file] if project_file else [])], self._overrides)


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
    if project_file is None:
        settings, verdicts = _build(layers, overrides), list[Verdict]()
    else:
        settings, verdicts = _with_project_file(layers, project_file, overrides)
    settings._config_file = user_file
    settings._overrides = overrides
    settings._trust = verdicts
    return settings


def _with_project_file(layers: list[YamlLayer], project_file: YamlLayer,
                       overrides: dict[str, Any]) -> tuple[Settings, list[Verdict]]:
    """The settings with the project file laid over `layers`, under the trust rule
    (bot/config/trust.py): what grants rights or sends data elsewhere is the operator's, and the
    file may only make it stricter. Its looser values are taken out, so the operator's apply."""
    operator = _build(layers, overrides)
    verdicts, trusted = restrict(operator, _build([*layers, project_file], overrides), project_file.data)
    trusted_file = YamlLayer(project_file.name, trusted, project_file.lines)
    settings = _build([*layers, trusted_file], overrides)
    slipped = looser(restrict(operator, settings, trusted)[0])
    if slipped:  # a rule missed where a value was written: refuse rather than loosen
        raise ConfigError([f"{project_file.name}: cannot apply it without loosening what the operator set: "
                           f"{'; '.join(map(str, slipped))}"])
    return settings, verdicts


def _build(layers: list[YamlLayer], overrides: dict[str, Any]) -> Settings:
    """Settings from these YAML layers, the environment, secret files and `overrides`."""

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        ):
            return (
                init_settings,
                NamedEnv(settings_cls, files=True),
                NamedEnv(settings_cls, files=False),
                env_settings,
                YamlSource(settings_cls, layers),
            )

    try:
        return _Layered(**overrides)
    except ValidationError as exc:
        raise ConfigError([explain_error(dict(error), layers, overrides) for error in exc.errors()]) from None
