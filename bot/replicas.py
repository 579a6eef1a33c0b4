"""Two replicas converging one issue at once (a deploy overlapping old and new, or more than one
instance) read the same snapshot and write the same record twice. Nothing locks across processes;
instead each converge, after writing, reads the issue's notes again: where another note of the
bot's records the same thing (same marker kind and source) and is older (a lower note id: GitLab
numbers notes in the order it stores them), the younger is deleted by the replica that wrote it.
The writer of the younger note always sees the older one, since it was stored first: exactly one
record stays, whoever reads when.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from bot.markers import parse_markers

log = logging.getLogger(__name__)


def record_of(body: str) -> tuple[str, str] | None:
    """What a note records: its first marker's kind and source (a history note's reply marker;
    the `sending` markers after it belong to the notifier)."""
    markers = parse_markers(body)
    return (markers[0].kind, markers[0].source) if markers else None


def younger_twins(notes: Iterable[dict[str, Any]], bot_id: int, written: Iterable[int]) -> dict[int, int]:
    """Of the notes `written` (ids), those that an older note of the bot's records already:
    {my note id: the older note's id}."""
    first: dict[tuple[str, str], int] = {}
    for note in sorted(notes, key=lambda n: n["id"]):
        if note.get("author", {}).get("id") != bot_id or note.get("system"):
            continue
        record = record_of(note.get("body") or "")
        if record is not None:
            first.setdefault(record, note["id"])
    twins = {}
    by_id = {note["id"]: note for note in notes}
    for note_id in written:
        record = record_of(by_id[note_id]["body"]) if note_id in by_id else None
        if record is not None and first[record] != note_id:
            twins[note_id] = first[record]
    return twins


def delete_younger_twins(gitlab: Any, iid: int, written: Iterable[int]) -> dict[int, str]:
    """Read the notes again and delete each of `written` that another note recorded first.
    Returns the deleted notes' bodies by id, so that the caller can take back what it promised
    in them (the notifier's intents)."""
    written = list(written)
    if not written:
        return {}
    notes = gitlab.notes(iid)
    bodies = {note["id"]: note["body"] for note in notes}
    deleted = {}
    for mine, older in younger_twins(notes, gitlab.bot_user.id, written).items():
        gitlab.delete_note(iid, mine)
        deleted[mine] = bodies[mine]
        log.info("issue #%s: note %s records what note %s recorded first (another replica); deleted mine",
                 iid, mine, older, extra={"issue": iid, "outcome": "twin deleted"})
    return deleted
