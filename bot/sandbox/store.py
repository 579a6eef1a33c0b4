"""The sandbox's whole world: plain records in memory, optionally saved as one JSON document.

Records refer to each other by id, never by object, so the world serialises as flat tables and
a `--state` file reloads into exactly what was saved. Route modules read and change records
directly; `Store.save()` is called once per API write (see `bot/sandbox/app.py`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from bot.sandbox.delivery import HookState

log = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass
class User:
    id: int
    username: str
    name: str
    email: str
    created_at: str
    is_admin: bool = False
    state: str = "active"  # "active" | "blocked"
    public_email: str | None = None  # shown on the profile; found by anyone's exact search


@dataclass
class Token:
    id: int
    user_id: int
    token: str
    name: str
    created_at: str
    scopes: list[str] = field(default_factory=lambda: ["api"])
    expires_at: str | None = None


@dataclass
class Project:
    id: int
    name: str
    path: str
    namespace: str
    creator_id: int
    created_at: str
    description: str = ""
    visibility: str = "private"
    next_iid: int = 1

    @property
    def path_with_namespace(self) -> str:
        return f"{self.namespace}/{self.path}"


@dataclass
class Member:
    id: int
    project_id: int
    user_id: int
    access_level: int
    created_at: str
    created_by_id: int | None = None
    expires_at: str | None = None


@dataclass
class Label:
    id: int
    project_id: int
    name: str
    color: str
    created_at: str
    updated_at: str
    description: str | None = None
    priority: int | None = None
    subscriber_ids: list[int] = field(default_factory=list)


@dataclass
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    author_id: int
    created_at: str
    updated_at: str
    description: str | None = None
    state: str = "opened"  # "opened" | "closed"
    label_ids: list[int] = field(default_factory=list)
    assignee_ids: list[int] = field(default_factory=list)
    confidential: bool = False
    closed_at: str | None = None
    closed_by_id: int | None = None
    updated_by_id: int | None = None
    last_edited_at: str | None = None
    last_edited_by_id: int | None = None
    duplicated_to_id: int | None = None  # the issue's id (not iid) `/duplicate` named
    due_date: str | None = None  # YYYY-MM-DD


@dataclass
class Note:
    id: int
    project_id: int
    issue_id: int
    body: str
    author_id: int
    created_at: str
    updated_at: str
    discussion_id: str
    internal: bool = False
    individual: bool = True  # a plain comment, not a thread reply
    system: bool = False  # written by GitLab itself ("changed the description"), authored by the actor


@dataclass
class LabelEvent:
    id: int
    issue_id: int
    user_id: int
    label_id: int
    action: str  # "add" | "remove"
    created_at: str


@dataclass
class Award:
    id: int
    name: str
    user_id: int
    awardable_type: str  # "Issue" | "Note"
    awardable_id: int
    created_at: str


@dataclass
class Todo:
    id: int
    user_id: int
    author_id: int
    project_id: int
    issue_id: int
    action_name: str  # "assigned" | "mentioned" | "directly_addressed" | "marked"
    body: str
    created_at: str
    state: str = "pending"  # "pending" | "done"
    updated_at: str | None = None


@dataclass
class Upload:
    id: int
    project_id: int
    secret: str
    filename: str
    content_hex: str
    created_at: str


TABLES: dict[str, type] = {
    "users": User,
    "tokens": Token,
    "projects": Project,
    "members": Member,
    "labels": Label,
    "issues": Issue,
    "notes": Note,
    "label_events": LabelEvent,
    "awards": Award,
    "todos": Todo,
    "uploads": Upload,
    "hooks": HookState,
}

# A hook's delivery bookkeeping (log, failures, back-off) lives only in memory, as it would
# mean nothing to a restarted instance; its settings are saved.
HOOK_SETTINGS = (
    "id",
    "project_id",
    "url",
    "token",
    "issues_events",
    "note_events",
    "confidential_issues_events",
    "confidential_note_events",
    "emoji_events",
    "push_events",
    "enable_ssl_verification",
)

R = TypeVar("R")


def format_time(moment: datetime) -> str:
    """GitLab's API timestamp, with microseconds so `updated_after` filters are exact."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Read ISO 8601 (with `Z` or an offset, date-only too) or GitLab's `... UTC` form."""
    value = text.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Clock:
    """Wall-clock time that never repeats: two writes never share an `updated_at`. `offset` moves
    it (the control's `PUT /-/sandbox/clock`), so tests can make changes look days old."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=timezone.utc)
        self.offset = timedelta(0)

    def shift(self, offset: timedelta) -> None:
        self.offset, self._last = offset, datetime.min.replace(tzinfo=timezone.utc)

    def now(self) -> str:
        moment = datetime.now(timezone.utc) + self.offset
        if moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return format_time(moment)


def new_token() -> str:
    """A personal access token shaped like GitLab's (`glpat-` and 20 URL-safe characters)."""
    return "glpat-" + secrets.token_urlsafe(15)[:20]


def _dump(record: Any) -> dict[str, Any]:
    if isinstance(record, HookState):
        return {key: getattr(record, key) for key in HOOK_SETTINGS} | {
            "created_at": record.created_at.isoformat()
        }
    return asdict(record)


def _restore(kind: type, row: dict[str, Any]) -> Any:
    known = {f.name for f in fields(kind)}
    values = {key: value for key, value in row.items() if key in known}
    if kind is HookState:
        values["created_at"] = parse_time(values["created_at"])
    return kind(**values)


class DanglingReference(LookupError):
    """A record refers by id to one that is gone: the sandbox broke its own invariant (a 500)."""


class StateFileError(ValueError):
    """The `--state` file cannot be loaded; the message names the file and what is wrong."""


class Store:
    """Every table of the sandbox plus the id counters, optionally mirrored to a JSON file."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self.state_file = Path(state_file) if state_file else None
        self.clock = Clock()
        self.tables: dict[str, dict[int, Any]] = {name: {} for name in TABLES}
        self.next_ids: dict[str, int] = {name: 1 for name in TABLES}

    # -- records ---------------------------------------------------------------------------

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, record: R) -> R:
        self.tables[table][record.id] = record  # type: ignore[attr-defined]
        return record

    # `get`, `require` and `all` are typed per table: the overloads name each table's record class;
    # a table registered elsewhere (the repository's commits) reads as Any.

    @overload
    def get(self, table: Literal["users"], record_id: int | None) -> User | None: ...
    @overload
    def get(self, table: Literal["tokens"], record_id: int | None) -> Token | None: ...
    @overload
    def get(self, table: Literal["projects"], record_id: int | None) -> Project | None: ...
    @overload
    def get(self, table: Literal["members"], record_id: int | None) -> Member | None: ...
    @overload
    def get(self, table: Literal["labels"], record_id: int | None) -> Label | None: ...
    @overload
    def get(self, table: Literal["issues"], record_id: int | None) -> Issue | None: ...
    @overload
    def get(self, table: Literal["notes"], record_id: int | None) -> Note | None: ...
    @overload
    def get(self, table: Literal["label_events"], record_id: int | None) -> LabelEvent | None: ...
    @overload
    def get(self, table: Literal["awards"], record_id: int | None) -> Award | None: ...
    @overload
    def get(self, table: Literal["todos"], record_id: int | None) -> Todo | None: ...
    @overload
    def get(self, table: Literal["uploads"], record_id: int | None) -> Upload | None: ...
    @overload
    def get(self, table: Literal["hooks"], record_id: int | None) -> HookState | None: ...
    @overload
    def get(self, table: str, record_id: int | None) -> Any | None: ...
    def get(self, table: str, record_id: int | None) -> Any | None:
        """The record, None when missing (or when `record_id` is None: a path that named none)."""
        if record_id is None:
            return None
        return self.tables[table].get(record_id)

    @overload
    def require(self, table: Literal["users"], record_id: int) -> User: ...
    @overload
    def require(self, table: Literal["tokens"], record_id: int) -> Token: ...
    @overload
    def require(self, table: Literal["projects"], record_id: int) -> Project: ...
    @overload
    def require(self, table: Literal["members"], record_id: int) -> Member: ...
    @overload
    def require(self, table: Literal["labels"], record_id: int) -> Label: ...
    @overload
    def require(self, table: Literal["issues"], record_id: int) -> Issue: ...
    @overload
    def require(self, table: Literal["notes"], record_id: int) -> Note: ...
    @overload
    def require(self, table: Literal["label_events"], record_id: int) -> LabelEvent: ...
    @overload
    def require(self, table: Literal["awards"], record_id: int) -> Award: ...
    @overload
    def require(self, table: Literal["todos"], record_id: int) -> Todo: ...
    @overload
    def require(self, table: Literal["uploads"], record_id: int) -> Upload: ...
    @overload
    def require(self, table: Literal["hooks"], record_id: int) -> HookState: ...
    @overload
    def require(self, table: str, record_id: int) -> Any: ...
    def require(self, table: str, record_id: int) -> Any:
        """The record another record refers to (an issue's author, a note's issue): it must exist,
        so a missing one is a dangling reference, a bug of the sandbox, never a client's 404."""
        record = self.tables[table].get(record_id)
        if record is None:
            raise DanglingReference(f"{table} {record_id} is referred to but missing")
        return record

    @overload
    def all(self, table: Literal["users"]) -> list[User]: ...
    @overload
    def all(self, table: Literal["tokens"]) -> list[Token]: ...
    @overload
    def all(self, table: Literal["projects"]) -> list[Project]: ...
    @overload
    def all(self, table: Literal["members"]) -> list[Member]: ...
    @overload
    def all(self, table: Literal["labels"]) -> list[Label]: ...
    @overload
    def all(self, table: Literal["issues"]) -> list[Issue]: ...
    @overload
    def all(self, table: Literal["notes"]) -> list[Note]: ...
    @overload
    def all(self, table: Literal["label_events"]) -> list[LabelEvent]: ...
    @overload
    def all(self, table: Literal["awards"]) -> list[Award]: ...
    @overload
    def all(self, table: Literal["todos"]) -> list[Todo]: ...
    @overload
    def all(self, table: Literal["uploads"]) -> list[Upload]: ...
    @overload
    def all(self, table: Literal["hooks"]) -> list[HookState]: ...
    @overload
    def all(self, table: str) -> list[Any]: ...
    def all(self, table: str) -> list[Any]:
        return list(self.tables[table].values())

    def delete(self, table: str, record_id: int) -> None:
        self.tables[table].pop(record_id, None)

    def now(self) -> str:
        return self.clock.now()

    # -- lookups used everywhere -----------------------------------------------------------

    def user_by_token(self, token: str) -> User | None:
        for record in self.tables["tokens"].values():
            if secrets.compare_digest(record.token, token):
                return self.tables["users"].get(record.user_id)
        return None

    def user_by_username(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self.all("users") if u.username.lower() == wanted), None)

    def project_by_path(self, path: str) -> Project | None:
        wanted = path.lower()
        return next(
            (p for p in self.all("projects") if p.path_with_namespace.lower() == wanted), None
        )

    def member(self, project_id: int, user_id: int) -> Member | None:
        return next(
            (
                m
                for m in self.all("members")
                if m.project_id == project_id and m.user_id == user_id
            ),
            None,
        )

    def issue_by_iid(self, project_id: int, iid: int) -> Issue | None:
        return next(
            (i for i in self.all("issues") if i.project_id == project_id and i.iid == iid), None
        )

    def label_by_name(self, project_id: int, name: str) -> Label | None:
        return next(
            (
                label
                for label in self.all("labels")
                if label.project_id == project_id and label.name == name
            ),
            None,
        )

    # -- persistence -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "next_ids": self.next_ids,
            "tables": {
                name: [_dump(record) for record in rows.values()]
                for name, rows in self.tables.items()
            },
        }

    def load_json(self, document: Any) -> None:
        """Replace every table with `document`'s, or raise ValueError and keep the store as it was."""
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        if document.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported sandbox state version {document.get('version')!r}")
        for key in ("tables", "next_ids"):
            if not isinstance(document.get(key), dict):
                raise ValueError(f"{key!r} is missing or not an object")
        tables, next_ids = {}, {}
        for name, kind in TABLES.items():
            try:
                tables[name] = {row["id"]: _restore(kind, row) for row in document["tables"].get(name, [])}
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise ValueError(f"table {name!r} has a bad row ({type(error).__name__}: {error})") from None
            try:
                next_ids[name] = int(document["next_ids"].get(name, 1))
            except (TypeError, ValueError):
                raise ValueError(f"next_ids[{name!r}] is not a number") from None
        self.tables, self.next_ids = tables, next_ids

    def save(self) -> None:
        """Write the state file atomically (temp file + rename), if there is one."""
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=self.state_file.parent, prefix=self.state_file.name, suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self.to_json(), stream)
            os.replace(temp_name, self.state_file)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def load(self) -> bool:
        """Reload the state file; False when there is none yet (a fresh instance).

        Raises StateFileError, naming the file, when it cannot be read or is not a state file."""
        if self.state_file is None or not self.state_file.exists():
            return False
        try:
            self.load_json(json.loads(self.state_file.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            raise StateFileError(f"{self.state_file}: not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise StateFileError(f"{self.state_file}: not JSON ({error})") from None
        except (OSError, ValueError) as error:
            raise StateFileError(f"{self.state_file}: {error}") from None
        log.info("sandbox state loaded from %s", self.state_file)
        return True
