"""Where settings come from besides keyword arguments: the YAML layers (bot/config/files.py),
the secrets' and deployment details' own environment variables, and secret files
(`VORHOELLE_<NAME>_FILE`). pydantic-settings reads the rest of the environment itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config.files import ENV_PREFIX, ConfigError, YamlLayer, deep_merge, nest

# Secrets with a variable of their own (`VORHOELLE_<NAME>`, or `VORHOELLE_<NAME>_FILE` naming a
# file that holds it), and where each lands in the settings.
SECRET_ENV: dict[str, tuple[str, ...]] = {
    "GITLAB_TOKEN": ("gitlab_token",),
    "WEBHOOK_SECRET": ("webhook_secret",),
    "WEBHOOK_SIGNING_KEY": ("webhook_signing_key",),
    "API_TOKEN": ("api_token",),
    "METRICS_TOKEN": ("server", "metrics_token"),
    "SLACK_TOKEN": ("notify", "channels", "slack", "bot_token"),
    "SLACK_WEBHOOK_URL": ("notify", "channels", "slack", "webhook_url"),
    "SLACK_SIGNING_SECRET": ("notify", "channels", "slack", "signing_secret"),
    "TWILIO_AUTH_TOKEN": ("notify", "channels", "whatsapp", "auth_token"),
    "SMTP_PASSWORD": ("notify", "channels", "email", "smtp", "password"),
    "OAUTH_CLIENT_SECRET": ("settings_page", "oauth_client_secret"),
    "SESSION_SECRET": ("settings_page", "session_secret"),
}
# Not secrets, but deployment details that belong with them in the environment.
DEPLOYMENT_ENV: dict[str, tuple[str, ...]] = {
    "GMAIL_TOKEN_FILE": ("notify", "channels", "email", "gmail", "token_file"),
    "TWILIO_ACCOUNT_SID": ("notify", "channels", "whatsapp", "account_sid"),
}


def _read_secret_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"{variable}={path}: cannot read the secret file: {exc.strerror}"]) from None


class _WholeSource(PydanticBaseSettingsSource):
    """A source that gives all its settings at once, from `__call__`."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False


class NamedEnv(_WholeSource):
    """`SECRET_ENV` and `DEPLOYMENT_ENV` variables, or with `files=True` the `*_FILE` variants."""

    def __init__(self, settings_cls: type[BaseSettings], files: bool):
        super().__init__(settings_cls)
        self.files = files

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


class YamlSource(_WholeSource):
    """The YAML layers, later ones merged over earlier ones."""

    def __init__(self, settings_cls: type[BaseSettings], layers: list[YamlLayer]):
        super().__init__(settings_cls)
        self.layers = layers

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for layer in self.layers:
            data = deep_merge(data, layer.data)
        return data
