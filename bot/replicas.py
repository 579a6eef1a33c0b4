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
from bot.snapshot import IssueSnapshot

log = logging.getLogger(__name__)


def record_of(body: str) -> tuple[str, str] | None:
    """What a note records: its first marker's kind and source (a history note's reply marker;
    the `sending` markers after it belong to the notifier)."""
    markers = parse_markers(body)
    return (markers[0].kind, markers[0].source) if markers else None


def younger_twins(snapshot: IssueSnapshot, written: Iterable[int]) -> dict[int, int]:
    """Of the notes `written` (ids), those that an older note of the bot's records already:
    {my note id: the older note's id}."""
    first: dict[tuple[str, str], int] = {}
    mine: dict[int, tuple[str, str]] = {}
    for note in sorted(snapshot.notes, key=lambda n: n.id):
        if note.author_id != snapshot.bot_user.id or note.system:
            continue
        record = record_of(note.body)
        if record is not None:
            first.setdefault(record, note.id)
            mine[note.id] = record
    return {note_id: first[mine[note_id]] for note_id in written
            if note_id in mine and first[mine[note_id]] != note_id}


def delete_younger_twins(gitlab: Any, snapshot: IssueSnapshot, written: Iterable[int]) -> dict[int, str]:
    """Delete each note of `written` that another note recorded first, as `snapshot` (read after
    writing) shows them. Returns the deleted notes' bodies by id, so that the caller can take back
    what it promised in them (the notifier's intents)."""
    bodies = {note.id: note.body for note in snapshot.notes}
    deleted = {}
    for mine, older in younger_twins(snapshot, written).items():
        gitlab.delete_note(snapshot.iid, mine)
        deleted[mine] = bodies[mine]
        log.info("issue #%s: note %s records what note %s recorded first (another replica); deleted mine",
                 snapshot.iid, mine, older, extra={"issue": snapshot.iid, "outcome": "twin deleted"})
    return deleted
