"""Which handler answers which GitLab event kind, gidgetlab-style.

A handler is a pure function: a webhook payload and what the bot knows about itself
(`HookContext`) in, a `Decision` out — "converge issue N" or "ignore, because …". It never talks
to GitLab, so every rule is testable with a payload's JSON; the receiver does the queueing.

Each handler registers with the type of the payload it reads (handlers/payload.py), and the
router decodes a delivery's body into that type for it: only the fields the handler reads are
built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import msgspec


class Converge(msgspec.Struct, frozen=True, gc=False):
    """Converge issue `iid`. (The decisions are msgspec Structs: one is made for every delivery,
    in a seventh of a frozen dataclass's time.)"""

    iid: int
    reason: str


class Ignore(msgspec.Struct, frozen=True, gc=False):
    reason: str


class ReloadSettings(msgspec.Struct, frozen=True, gc=False):
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


Handler = Callable[[Any, HookContext], Decision]


@dataclass(frozen=True)
class Registered:
    handler: Handler
    decoder: msgspec.json.Decoder[Any]   # the body into the type of payload the handler reads


class Router:
    def __init__(self) -> None:
        self._handlers: dict[str, Registered] = {}

    def register(self, *events: str, payload: type) -> Callable[[Handler], Handler]:
        """Decorator: `@router.register("Issue Hook", "Confidential Issue Hook", payload=IssueHook)`,
        where `IssueHook` is the msgspec Struct of the fields the handler reads."""

        def add(handler: Handler) -> Handler:
            for event in events:
                if event in self._handlers:
                    raise ValueError(f"{event!r} already has a handler: {self._handlers[event].handler.__name__}")
                self._handlers[event] = Registered(handler, msgspec.json.Decoder(payload))
            return handler

        return add

    def events(self) -> list[str]:
        return sorted(self._handlers)

    def handles(self, event: str) -> bool:
        return event in self._handlers

    def decide(self, event: str, body: bytes, context: HookContext) -> Decision:
        """The decision of the event's handler on the payload in `body`. A payload with a field
        of another kind than the handler reads (an object where a list belongs) is ignored,
        saying what did not fit. A body that is not JSON raises msgspec.DecodeError, one nested
        too deeply RecursionError: the receiver answers those."""
        registered = self._handlers.get(event)
        if registered is None:
            return Ignore(f"the bot does not act on {event or 'unnamed'!r} events")
        try:
            payload = registered.decoder.decode(body)
        except msgspec.ValidationError as error:
            return Ignore(f"the payload is not shaped as GitLab's {event}: {error}")
        return registered.handler(payload, context)


router = Router()
