"""Which handler answers which GitLab event kind, gidgetlab-style.

A handler is a pure function: a webhook payload and what the bot knows about itself
(`HookContext`) in, a `Decision` out — "converge issue N" or "ignore, because …". It never talks
to GitLab, so every rule is testable with a dict; the receiver does the queueing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class Converge:
    iid: int
    reason: str


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class ReloadSettings:
    """The project's `.vorhoelle.yml` changed: re-read it (bot/config/project_file.py::reload)."""

    reason: str


Decision = Converge | Ignore | ReloadSettings


@dataclass(frozen=True)
class HookContext:
    """The facts a handler needs that are not in the payload."""

    project_id: int
    bot_user_id: int
    bot_username: str
    watched_labels: frozenset[str]   # the marker label and every state label
    handle_confidential: bool = True
    emoji_enabled: bool = True
    emoji_names: frozenset[str] = frozenset({"thumbsup", "thumbsdown"})


Handler = Callable[[Payload, HookContext], Decision]


class Router:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, *events: str) -> Callable[[Handler], Handler]:
        """Decorator: `@router.register("Issue Hook", "Confidential Issue Hook")`."""

        def add(handler: Handler) -> Handler:
            for event in events:
                if event in self._handlers:
                    raise ValueError(f"{event!r} already has a handler: {self._handlers[event].__name__}")
                self._handlers[event] = handler
            return handler

        return add

    def events(self) -> list[str]:
        return sorted(self._handlers)

    def handles(self, event: str) -> bool:
        return event in self._handlers

    def dispatch(self, event: str, payload: Payload, context: HookContext) -> Decision:
        handler = self._handlers.get(event)
        if handler is None:
            return Ignore(f"the bot does not act on {event or 'unnamed'!r} events")
        return handler(payload, context)


router = Router()
