"""Claims: one message sent once, even when two replicas of the bot owe it at the same moment.

A round's intent (the `sending` marker naming the delivery and the round) is its claim. Written
first, then read back: of the unresolved claims on record for a delivery, the one in the oldest
note (GitLab numbers notes in the order it stores them) wins, and only its round sends. A later
claimant always sees the earlier claim, so at most one wins, whoever reads when.

A claim another process made and has not resolved yet is that process at work: this one leaves
the delivery alone while the claim is younger than the lease (`notify.claim_lease_seconds`; the
message stays owed, and the next flush looks again). Older, its process is taken to have died
between sending and recording: the message is claimed anew and goes out again, marked as a
possible repeat. The lease is the price of knowing nothing about other processes but what GitLab
shows: a message a dying process left unrecorded goes out a lease later, not at once. It must
outlast a busy process's backlog: a history note's claim is written when the converge records the
event, and its round may wait behind others (and behind the note pace) for minutes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.markers import parse_markers
from bot.notify.owed import NOTIFIED, SENDING, UNSENT, DeliveryKey, delivery_key



@dataclass(frozen=True)
class Claim:
    note_id: int
    at: datetime
    round: str | None


def _rows(notes: Iterable[Any], bot_id: int) -> Iterable[tuple[int, datetime, str]]:
    """(id, created_at, body) of the bot's own notes, from a snapshot's NoteViews or the API's dicts."""
    for note in notes:
        if isinstance(note, dict):
            if note.get("author", {}).get("id") == bot_id and not note.get("system"):
                yield note["id"], datetime.fromisoformat(note["created_at"]), note.get("body") or ""
        elif note.author_id == bot_id and not note.system:
            yield note.id, note.created_at, note.body


def on_record(notes: Iterable[Any], bot_id: int) -> tuple[dict[DeliveryKey, list[Claim]], set[DeliveryKey]]:
    """The unresolved claims for each delivery (oldest note first), and the deliveries recorded."""
    claims: dict[DeliveryKey, list[Claim]] = {}
    resolved: set[tuple[DeliveryKey, str | None]] = set()
    delivered: set[DeliveryKey] = set()
    for note_id, at, body in sorted(_rows(notes, bot_id)):
        for marker in parse_markers(body):
            key = delivery_key(marker)
            if key is None:
                continue
            if marker.kind == SENDING:
                claims.setdefault(key, []).append(Claim(note_id, at, marker.data.get("round")))
            elif marker.kind == UNSENT:
                resolved.add((key, marker.data.get("round")))
            elif marker.kind == NOTIFIED:
                delivered.add(key)
    open_claims = {key: [c for c in found if (key, c.round) not in resolved] for key, found in claims.items()}
    return {key: found for key, found in open_claims.items() if found}, delivered


def claimed_elsewhere(snapshot: Any, key: DeliveryKey, mine: Collection[str | None], now: datetime,
                      lease: timedelta) -> bool:
    """Whether another process holds a live claim on `key` (`mine`: this process's rounds)."""
    claims, delivered = on_record(snapshot.notes, snapshot.bot_user.id)
    if key in delivered:
        return False
    return any(c.round not in mine and now - c.at < lease for c in claims.get(key, ()))


def lost(gitlab: Any, iid: int, keys: Iterable[DeliveryKey], round_id: str, now: datetime,
         lease: timedelta) -> set[DeliveryKey]:
    """With this round's claims on `keys` on record, read the notes back: the keys this round
    must not send, because another process delivered them or holds an older live claim."""
    keys = set(keys)
    if not keys:
        return set()
    claims, delivered = on_record(gitlab.notes(iid), gitlab.bot_user.id)
    beaten = set()
    for key in keys:
        live = [c for c in claims.get(key, ()) if c.round == round_id or now - c.at < lease]
        if key in delivered or (live and live[0].round != round_id):
            beaten.add(key)
    return beaten
