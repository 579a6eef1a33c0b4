"""What GitLab says about one issue right now, read in four calls and frozen.

The workflow decides from a snapshot alone, so it can be unit-tested with hand-made ones; the
converge reads one before deciding and one after applying, for the notifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot import markers
from bot.markers import Marker
from bot.seams import GitLab

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_time(value: str | None) -> datetime:
    """GitLab writes ISO 8601 (`2024-05-01T10:00:00.123Z`) and `2015-05-17 17:06:40 UTC`."""
    if not value:
        return _EPOCH
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4].replace(" ", "T") + "+00:00"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Person":
        data = data or {}
        username = str(data.get("username") or "")
        return cls(id=int(data.get("id") or 0), username=username, name=str(data.get("name") or username))


@dataclass(frozen=True)
class NoteView:
    id: int
    author_id: int
    author_username: str
    author_name: str
    body: str
    created_at: datetime
    updated_at: datetime
    system: bool
    internal: bool


@dataclass(frozen=True)
class LabelEvent:
    id: int
    user_id: int
    username: str
    user_name: str
    label: str
    action: str  # "add" | "remove"
    created_at: datetime


@dataclass(frozen=True)
class Award:
    id: int
    name: str  # the emoji, e.g. "thumbsup"
    user_id: int
    username: str
    user_name: str
    created_at: datetime


@dataclass(frozen=True)
class DescriptionEdit:
    """GitLab's system note "changed the description": who edited the text, and when. It is
    written by GitLab as the editor and cannot be forged; the issue's REST view names no editor."""

    author: Person
    at: datetime


DESCRIPTION_EDITED = "changed the description"


@dataclass(frozen=True)
class IssueSnapshot:
    iid: int
    id: int
    title: str
    description: str
    web_url: str
    state: str  # "opened" | "closed"
    labels: tuple[str, ...]
    confidential: bool
    assignees: tuple[str, ...]
    author: Person
    created_at: datetime
    updated_at: datetime
    notes: tuple[NoteView, ...]
    label_events: tuple[LabelEvent, ...]
    awards: tuple[Award, ...]
    bot_user: Person
    bot_markers: tuple[Marker, ...]
    match_marker: Marker | None
    description_markers: tuple[Marker, ...] = ()  # the `match`/`imported` record, when the bot wrote it
    description_edits: tuple[DescriptionEdit, ...] = ()  # oldest first, the bot's own included
    due_date: str | None = None  # YYYY-MM-DD: while interviewing, the day of the next round

    def note_url(self, note_id: int) -> str:
        return f"{self.web_url}#note_{note_id}"


def _note(data: dict[str, Any]) -> NoteView:
    author = Person.from_json(data.get("author"))
    return NoteView(
        id=int(data["id"]),
        author_id=author.id,
        author_username=author.username,
        author_name=author.name,
        body=data.get("body") or "",
        created_at=parse_time(data.get("created_at")),
        updated_at=parse_time(data.get("updated_at") or data.get("created_at")),
        system=bool(data.get("system")),
        internal=bool(data.get("internal") or data.get("confidential")),
    )


def _label_event(data: dict[str, Any]) -> LabelEvent | None:
    label = data.get("label")
    if not label:  # GitLab sends `label: null` once the label itself was deleted
        return None
    user = Person.from_json(data.get("user"))
    return LabelEvent(
        id=int(data["id"]),
        user_id=user.id,
        username=user.username,
        user_name=user.name,
        label=str(label.get("name")),
        action=str(data.get("action")),
        created_at=parse_time(data.get("created_at")),
    )


def _award(data: dict[str, Any]) -> Award:
    user = Person.from_json(data.get("user"))
    return Award(
        id=int(data["id"]),
        name=str(data.get("name")),
        user_id=user.id,
        username=user.username,
        user_name=user.name,
        created_at=parse_time(data.get("created_at")),
    )


def build_snapshot(
    issue: dict[str, Any],
    label_events: list[dict[str, Any]],
    notes: list[dict[str, Any]],
    awards: list[dict[str, Any]],
    bot_user: Person,
) -> IssueSnapshot:
    """A snapshot from GitLab's JSON; markers count only where the bot itself wrote them, and
    in a description only the kinds that belong there (anyone from Reporter up can edit it)."""
    author = Person.from_json(issue.get("author"))
    note_views = tuple(sorted((_note(n) for n in notes), key=lambda n: (n.created_at, n.id)))
    description = issue.get("description") or ""
    description_markers = markers.description_markers(description) if author.id == bot_user.id else []
    bot_markers = tuple(
        [m for n in note_views if n.author_id == bot_user.id and not n.system for m in markers.parse_markers(n.body)]
    )
    events = (_label_event(e) for e in label_events)
    return IssueSnapshot(
        iid=int(issue["iid"]),
        id=int(issue["id"]),
        title=issue.get("title") or "",
        description=description,
        web_url=issue.get("web_url") or "",
        state=issue.get("state") or "opened",
        labels=tuple(issue.get("labels") or ()),
        confidential=bool(issue.get("confidential")),
        assignees=tuple(a.get("username", "") for a in issue.get("assignees") or ()),
        author=author,
        created_at=parse_time(issue.get("created_at")),
        updated_at=parse_time(issue.get("updated_at")),
        notes=note_views,
        label_events=tuple(sorted((e for e in events if e), key=lambda e: (e.created_at, e.id))),
        awards=tuple(sorted((_award(a) for a in awards), key=lambda a: (a.created_at, a.id))),
        bot_user=bot_user,
        bot_markers=tuple(description_markers) + bot_markers,
        match_marker=next((m for m in description_markers if m.kind == "match"), None),
        description_markers=tuple(description_markers),
        description_edits=tuple(
            DescriptionEdit(Person(n.author_id, n.author_username, n.author_name), n.created_at)
            for n in note_views if n.system and n.body.strip() == DESCRIPTION_EDITED
        ),
        due_date=issue.get("due_date") or None,
    )


def read_snapshot(gitlab: GitLab, iid: int) -> IssueSnapshot:
    """Read issue, label events, notes and awards (each fully paginated) from `GitLabAccess`."""
    return build_snapshot(
        gitlab.get_issue(iid),
        gitlab.label_events(iid),
        gitlab.notes(iid),
        gitlab.awards(iid),
        gitlab.bot_user,
    )
