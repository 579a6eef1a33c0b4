"""What is owed: which messages GitLab says were never delivered. Pure, no I/O.

An event worth a message is something the bot recorded with a marker: a staged match (`match`),
a state change (`transition`, named after the state reached) or a refused command (`refusal`).
A delivery is recorded as a `notified` marker naming the event's source, the event and the
channel. An event without one, for a channel its rule names, is owed on that channel.

Before a message goes out, a `sending` marker (the intent) names it and the round that sends it:
in the note recording the event itself when the message goes out right away, else in the round's
own note. A round resolves its intents: the record replaces the intent in the round's note, or
names them in `unsent` markers (same round) when the channel failed. An intent left unresolved
means a process died between sending and recording: the message is owed again, flagged as a
possible repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from bot.markers import Marker, parse_markers
from bot.config.settings import EventRule

NOTIFIED = "notified"
SENDING = "sending"
UNSENT = "unsent"
STAGED = "staged"
REFUSED = "refused"

DeliveryKey = tuple[str, str, str]   # (event, source, channel)
IntentKey = tuple[DeliveryKey, "str | None"]   # a delivery and the round that meant to send it


@dataclass(frozen=True)
class Recorded:
    """A marker and when GitLab stored the text it sits in."""

    marker: Marker
    at: datetime | None = None


@dataclass(frozen=True)
class Event:
    name: str                      # staged | a workflow state (approved, ...) | refused
    source: str                    # the marker's source: match:<key>, label_event:<id>, ...
    at: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def key(self, channel: str) -> DeliveryKey:
        return (self.name, self.source, channel)


@dataclass(frozen=True)
class Owed:
    event: Event
    channel: str
    possible_repeat: bool = False
    intended: bool = False   # an unresolved intent is on record: sending needs no new one


def recorded_in(snapshot: Any) -> list[Recorded]:
    """The bot's own markers in an `IssueSnapshot`, each with the time of the text holding it.

    A note's marker's own `at` (the time of the source it names) wins over the time of its note.
    The description gives only its staging record (`match`, `imported`), dated when the issue
    was created: people can edit that text, so nothing in it may claim a later time, a state
    change or a delivery.
    """
    staged = [Recorded(marker, snapshot.created_at) for marker in snapshot.description_markers]
    notes = [(n.body, n.created_at) for n in snapshot.notes if n.author_id == snapshot.bot_user.id and not n.system]
    return staged + [Recorded(m, marker_time(m) or at) for body, at in notes for m in parse_markers(body)]


def marker_time(marker: Marker) -> datetime | None:
    try:
        return datetime.fromisoformat(marker.data["at"])
    except (KeyError, TypeError, ValueError):
        return None


def event_of(marker: Marker) -> str | None:
    """The event a marker stands for, or None when it is not news."""
    if marker.kind == "match":
        return STAGED
    if marker.kind == "transition" and marker.data.get("happened") == "reply":
        return "reply"  # recorded where the match is: the news is the answer, not the state
    if marker.kind == "transition" and isinstance(marker.data.get("to"), str):
        return marker.data["to"]
    if marker.kind == "refusal":
        return REFUSED
    return None


def events_in(recorded: Iterable[Recorded]) -> list[Event]:
    events: dict[tuple[str, str], Event] = {}
    for item in recorded:
        name = event_of(item.marker)
        if name is not None:
            events.setdefault((name, item.marker.source), Event(name, item.marker.source, item.at, item.marker.data))
    return list(events.values())


def delivery_key(marker: Marker) -> DeliveryKey | None:
    event, channel = marker.data.get("event"), marker.data.get("channel")
    if isinstance(event, str) and isinstance(channel, str):
        return (event, marker.source, channel)
    return None


def recorded_keys(recorded: Iterable[Recorded], kind: str) -> set[DeliveryKey]:
    keys = (delivery_key(item.marker) for item in recorded if item.marker.kind == kind)
    return {key for key in keys if key is not None}


def pending_intents(recorded: Iterable[Recorded]) -> set[IntentKey]:
    """Intents no round resolved: `sending` markers without an `unsent` of the same round."""
    found = [(item.marker.kind, delivery_key(item.marker), item.marker.data.get("round")) for item in recorded]
    sending = {(key, round_id) for kind, key, round_id in found if kind == SENDING and key is not None}
    return sending - {(key, round_id) for kind, key, round_id in found if kind == UNSENT}


def family(target: str) -> str:
    """The channel a delivery target belongs to: `whatsapp:+4915100000001` (one recipient of
    several, recorded apart so that a retry never repeats the others) belongs to `whatsapp`."""
    return target.split(":", 1)[0]


def match_score(recorded: Iterable[Recorded]) -> int | None:
    for item in recorded:
        score = item.marker.data.get("score")
        if item.marker.kind == "match" and isinstance(score, (int, float)):
            return int(score)
    return None


def channels_for(
    event: str, rules: Mapping[str, EventRule], enabled: Sequence[str], score: int | None
) -> list[str]:
    """The enabled targets of the channels the event's rule names; none when the score is under
    its minimum."""
    rule = rules.get(event)
    if rule is None or (score is not None and score < rule.min_score):
        return []
    if "all" in rule.channels:
        return list(enabled)
    return [name for name in enabled if family(name) in rule.channels]


def owed(
    recorded: Sequence[Recorded],
    *,
    rules: Mapping[str, EventRule],
    enabled: Sequence[str],
    now: datetime,
    max_age: timedelta,
    delivered: Iterable[DeliveryKey] = (),
    intents: Mapping[IntentKey, bool] = {},
) -> list[Owed]:
    """Every (event, channel) of one issue still owed a message, oldest event first.

    `delivered` adds deliveries known to have been recorded but possibly not yet in `recorded`
    (a snapshot read before the record was written). `intents` are the ones this process wrote:
    True while unresolved (never sent, so no repeat), False once resolved, whatever an older
    snapshot still shows.
    """
    done = recorded_keys(recorded, NOTIFIED) | set(delivered)
    # An issue is staged once: a `match` record with another source (typed into the description)
    # is not news again on a channel already told.
    staged_on = {channel for name, _, channel in done if name == STAGED}
    pending = {intent for intent in pending_intents(recorded) if intents.get(intent) is not False}
    pending |= {intent for intent, unresolved in intents.items() if unresolved}
    score = match_score(recorded)
    result: list[Owed] = []
    for event in sorted(events_in(recorded), key=lambda e: (e.at is None, e.at or now)):
        if event.at is not None and now - event.at > max_age:
            continue
        for channel in channels_for(event.name, rules, enabled, score):
            key = event.key(channel)
            if key in done or (event.name == STAGED and channel in staged_on):
                continue
            rounds = [intent for intent in pending if intent[0] == key]
            result.append(Owed(event, channel, possible_repeat=any(i not in intents for i in rounds), intended=bool(rounds)))
    return result
