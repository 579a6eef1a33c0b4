"""What every channel adapter is: a name and `send(message) -> receipt`, raising `ChannelError`.

Adapters translate their SDK's failures into `ChannelError` so the dispatcher can tell a
temporary failure (retry, honouring `retry_after`) from a permanent one (a wrong address, an
unapproved WhatsApp conversation: retrying cannot help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from bot.notify.message import Message


class ChannelError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Receipt:
    """A receipt that asks the record to @mention `mention` for the (issue, event source) pairs
    `on`: the GitLab to-do channel's message is that mention, written in the same edit that
    records it, so a crash can never leave a mention without its record (nor make a second one)."""

    text: str
    mention: str = ""
    on: frozenset[tuple[int, str]] = frozenset()

    def __str__(self) -> str:
        return self.text


def required(value: str | SecretStr | None, name: str) -> str:
    """A setting the settings' own checks demand of an enabled channel; its absence here is a
    permanent failure, said by name, not an AttributeError."""
    if value is None or value == "":
        raise ChannelError(f"{name} is not set", permanent=True)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> "str | Receipt":
        """Deliver `message`; return a short receipt (a message id, "ok") for the record."""
        ...
