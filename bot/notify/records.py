"""Record writing: what the notifier tells GitLab, so that GitLab alone knows what is owed.

Every message has a home note. A state change or a refusal has its own history note (written by
the converge): the intent to tell it (`sending` markers) rides on that note, and the outcome
(`notified`, or `unsent` when a channel failed) is recorded by editing the same note — an edit
creates no note, notifies nobody (but whoever it newly @mentions) and does not count against
GitLab's note-creation limit. So a step costs one note, however many channels hear of it. A
message with no history note of its own (a staging summary) has the issue's one record note
instead, an internal note created with its intent and edited with every later outcome.

A target that names its recipient (`whatsapp:+49…`) is recorded in the record note unless the
history note is internal: a history note may be public.

The notes are re-read before each edit, and every write to an issue happens under that issue's
lock (bot/issue_lock.py), the one every other writer takes: one writer per issue at a time. A
record GitLab refused is kept in memory and written again on the next flush; meanwhile this
process remembers the delivery (bot/notify/memory.py), so nothing goes out twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from markupsafe import Markup

from bot.gitlab_access import GitLabError
from bot.history import mention
from bot.issue_lock import holding
from bot.markers import Marker, parse_markers, render_marker
from bot.notify.delivery import SendResult
from bot.notify.owed import NOTIFIED, SENDING, STAGED, UNSENT, DeliveryKey, Owed, delivery_key, event_of, family
from bot.notify.pacing import NotePacer
from bot.render import render
from bot.snapshot import IssueSnapshot

log = logging.getLogger(__name__)

ROUND = "delivery"   # the marker kind of the issue's record note
HISTORY_KINDS = ("transition", "refusal")
DELIVERY_KINDS = (SENDING, NOTIFIED, UNSENT)
SHOWN = {"console": "console", "slack": "Slack", "email": "e-mail", "whatsapp": "WhatsApp", "gitlab_todo": "GitLab to-do"}


@dataclass(frozen=True)
class Home:
    """Where a message's intent and outcome are written."""

    note_id: int | None   # None: the issue's record note, not written yet
    history: bool         # the event's own history note (else the issue's record note)
    internal: bool = True


def home_of(snapshot: IssueSnapshot, item: Owed) -> Home:
    bot_notes = [n for n in snapshot.notes if n.author_id == snapshot.bot_user.id and not n.system]
    if item.event.name != STAGED:
        for note in bot_notes:
            if any(m.kind in HISTORY_KINDS and m.source == item.event.source and event_of(m) == item.event.name
                   for m in parse_markers(note.body)):
                if note.internal or family(item.channel) == item.channel:
                    return Home(note.id, True, note.internal)
                break
    record = next((n for n in reversed(bot_notes) if any(m.kind == ROUND for m in parse_markers(n.body))), None)
    return Home(record.id if record else None, False)


def marker_text(marker: Marker) -> str:
    return render_marker(marker.kind, marker.source, **marker.data)


def merged(old: Sequence[Marker], new: Sequence[Marker]) -> list[Marker]:
    """A note's markers after adding `new`: an intent goes once it is resolved (sent, or
    recorded unsent in the same note), an `unsent` once the delivery is recorded."""
    markers = [*old, *new]
    done = {delivery_key(m) for m in markers if m.kind == NOTIFIED}
    unsent = {(delivery_key(m), m.data.get("round")) for m in markers if m.kind == UNSENT}
    kept: list[Marker] = []
    seen: set[tuple[str, DeliveryKey | None]] = set()
    for m in markers:
        key = delivery_key(m)
        if m.kind == SENDING and (key in done or (key, m.data.get("round")) in unsent):
            continue
        if m.kind == UNSENT and key in done:
            continue
        if m.kind == NOTIFIED:
            if (m.kind, key) in seen:
                continue
            seen.add((m.kind, key))
        kept.append(m)
    return kept


def _outcomes(markers: Sequence[Marker]) -> dict[DeliveryKey, Marker]:
    """Per delivery, the marker saying how it stands: sent, else the last failure, else sending."""
    rank = {NOTIFIED: 2, UNSENT: 1, SENDING: 0}
    found: dict[DeliveryKey, Marker] = {}
    for m in markers:
        key = delivery_key(m)
        if key is not None and m.kind in rank and (key not in found or rank[m.kind] >= rank[found[key].kind]):
            found[key] = m
    return found


def _shown(markers: Iterable[Marker]) -> list[str]:
    """The channels of `markers` by the names people know them by, in alphabetical order."""
    return sorted({SHOWN.get(family(m.data["channel"]), m.data["channel"]) for m in markers}, key=str.lower)


def history_body(body: str, markers: Sequence[Marker]) -> str:
    """A history note with its delivery outcome: the note's own text as the converge wrote it,
    its markers, and one line saying who was told (no receipts: the note may be public)."""
    cut = body.find("<!-- vorhoelle:")
    visible = (body[:cut] if cut >= 0 else body).rstrip()
    outcomes = _outcomes(markers).values()
    told = _shown(m for m in outcomes if m.kind == NOTIFIED)
    failed = _shown(m for m in outcomes if m.kind == UNSENT)
    todo = next((m for m in outcomes if m.kind == NOTIFIED and m.data.get("mention")), None)
    return render(
        "notify/told.md.j2", visible=Markup(visible), markers=Markup("\n".join(map(marker_text, markers))),
        told=told, failed=failed, mention=mention(todo.data["mention"]) if todo else None,
        repeat=bool(todo and todo.data.get("possible_repeat")),
    )


def record_body(markers: Sequence[Marker], round_id: str) -> str:
    """The issue's record note: one line per delivery, how it stands."""
    outcomes = _outcomes(markers)
    several = len({key[0] for key in outcomes}) > 1
    lines = []
    for (event, _, channel), m in outcomes.items():
        outcome = {NOTIFIED: "sent", UNSENT: "failed", SENDING: "sending…"}[m.kind]
        detail = m.data.get("receipt") if m.kind == NOTIFIED else m.data.get("error") if m.kind == UNSENT else None
        lines.append({"channel": f"{channel} ({event})" if several else channel, "outcome": outcome, "detail": detail})
    todo = next((m for m in outcomes.values() if m.kind == NOTIFIED and m.data.get("mention")), None)
    summary = render_marker(ROUND, f"round:{round_id}")
    return render(
        "notify/record.md.j2", lines=lines, mention=mention(todo.data["mention"]) if todo else None,
        markers=Markup("\n".join([*map(marker_text, markers), summary])),
    )


def delivery_marker(kind: str, item: Owed, **data: Any) -> Marker:
    return Marker(kind, item.event.source, {"event": item.event.name, "channel": item.channel, **data})


class RecordWriter:
    def __init__(self, gitlab: Any, project: Callable[[], object], pacer: NotePacer):
        self.gitlab = gitlab
        self.project = project
        self.pacer = pacer
        self._unsaved: dict[tuple[int, Home], list[Marker]] = {}   # records GitLab refused, to retry

    def lock(self, iid: int) -> Any:
        return holding(self.gitlab, self.project(), iid)

    def write_intents(self, snapshot: IssueSnapshot, items: Sequence[Owed], round_id: str) -> dict[DeliveryKey, Home]:
        """The `sending` markers of `items` in their home notes (the record note is created
        here when needed); raises GitLabError when GitLab refuses. Every item's home."""
        homes: dict[DeliveryKey, Home] = {}
        with self.lock(snapshot.iid):
            for home, group in _by_home(snapshot, items).items():
                written = self._add(snapshot.iid, home, [delivery_marker(SENDING, o, round=round_id) for o in group], round_id)
                homes |= {o.event.key(o.channel): written for o in group}
        return homes

    def write_records(
        self, snapshot: IssueSnapshot, results: Sequence[tuple[Owed, SendResult]], homes: dict[DeliveryKey, Home],
        rounds: dict[DeliveryKey, list[str]], round_id: str, failure: Callable[[str, str], str],
    ) -> None:
        """Each outcome in its home note: `notified` (with the receipt where the note is
        internal), or for a failed send `unsent` for every intent of this process it resolves."""
        by_home: dict[Home, list[Marker]] = {}
        for item, result in results:
            key = item.event.key(item.channel)
            home = homes.get(key) or home_of(snapshot, item)
            if result.ok:
                data: dict[str, Any] = {"possible_repeat": item.possible_repeat}
                if home.internal:
                    data["receipt"] = result.detail[:100]
                if result.receipt is not None and (snapshot.iid, item.event.source) in result.receipt.on:
                    data["mention"] = result.receipt.mention
                marker = [delivery_marker(NOTIFIED, item, **data)]
            else:
                error = failure(item.channel, result.detail)[:300] if home.internal else "failed"
                marker = [delivery_marker(UNSENT, item, round=r, error=error) for r in rounds.get(key, ())]
            by_home.setdefault(home, []).extend(marker)
        with self.lock(snapshot.iid):
            for home, markers in by_home.items():
                self._save(snapshot.iid, home, markers, round_id)

    def retry_unsaved(self, round_id: str) -> None:
        for (iid, home), markers in list(self._unsaved.items()):
            del self._unsaved[(iid, home)]
            with self.lock(iid):
                self._save(iid, home, markers, round_id)

    def set_owed_label(self, snapshot: IssueSnapshot, label: str, owing: bool) -> None:
        if owing == (label in snapshot.labels):
            return
        try:
            with self.lock(snapshot.iid):
                if owing:
                    self.gitlab.update_labels(snapshot.iid, add=[label])
                else:
                    self.gitlab.update_labels(snapshot.iid, remove=[label])
        except GitLabError as exc:
            log.warning("issue #%d: cannot %s %s: %s", snapshot.iid, "add" if owing else "remove", label, exc)

    def _save(self, iid: int, home: Home, markers: list[Marker], round_id: str) -> None:
        if not markers:
            return
        try:
            self._add(iid, home, markers, round_id)
        except GitLabError as exc:
            log.warning("issue #%d: cannot save the delivery record (%s); will retry", iid, exc)
            self._unsaved.setdefault((iid, home), []).extend(markers)

    def _add(self, iid: int, home: Home, markers: list[Marker], round_id: str) -> Home:
        """Add `markers` to the home note, re-read first; returns the home with its note id."""
        if home.note_id is None:
            self.pacer.wait_turn()
            created = self.gitlab.create_note(iid, record_body(merged([], markers), round_id), internal=True)
            return Home(int(created["id"]), False)
        body = str(self.gitlab.note(iid, home.note_id).get("body") or "")
        old = [m for m in parse_markers(body) if m.kind != ROUND]
        now = merged(old, markers)
        self.gitlab.edit_note(iid, home.note_id, history_body(body, now) if home.history else record_body(now, round_id))
        return home


def _by_home(snapshot: IssueSnapshot, items: Iterable[Owed]) -> dict[Home, list[Owed]]:
    groups: dict[Home, list[Owed]] = {}
    for item in items:
        groups.setdefault(home_of(snapshot, item), []).append(item)
    return groups
