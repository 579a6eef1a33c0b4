"""Secrets shown masked (`vorhoelle config show`, GET /api/v1/config), and their actual texts for
the log's redaction filter (bot/logs.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.config.settings import Settings

MASK = "**********"


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
