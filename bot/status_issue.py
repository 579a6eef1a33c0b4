"""The bot's own status issue: where the catch-up's watermark and the full reconcile's progress
live, and where people see how the bot is doing.

GitLab is the only state, so "how far did the last pass get" is written into GitLab: one
confidential issue titled "Vorhölle status", made by the bot and carrying the label `LABEL`,
with one note of the bot's own that it edits after every pass. The note shows the bot's health
(last pass, webhook state, owed notifications, the full reconcile) and ends with a hidden marker
holding the record. The label only finds the issue: an issue counts only when the bot's user
opened it, and the record only when it sits in a note the bot's user wrote (anyone can add a
label or type a marker into a comment). The issue carries no job-match label, so nothing that
lists matches ever sees it.

When the record cannot be read — the label exists (so the bot made the issue once) but no issue
of the bot's carries it any more, the note is gone, or GitLab refuses (the token lost its rights)
— `load` says why, and the caller falls back to a full reconcile. With no label at all it is the
first run, and the fixed first window applies.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from markupsafe import Markup

from bot.gitlab_access import GitLabError, read_time
from bot.markers import parse_markers, render_marker, source_id
from bot.render import render

log = logging.getLogger(__name__)

KIND = "catch_up"
SOURCE = source_id("status", "catch-up")
TITLE = "Vorhölle status"
LABEL = "vorhoelle/status"   # fixed: a configurable one, renamed, would lose the watermark unseen
REFUSED = (401, 403, 404)
MAX_FAILED = 100   # a reconcile keeps at most this many failed iids to try again


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment else None


def _time(text: Any) -> datetime | None:
    """A time from the record, None when it is missing or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return read_time(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class FullRun:
    """A full reconcile under way: when it started, the last issue it converged (GitLab's
    `created_at` and id: the walk is in creation order), and how many it converged so far."""

    started: datetime
    cursor: tuple[str, int] | None = None
    converged: int = 0
    failed: tuple[int, ...] = ()   # iids whose converge failed: tried once more at the end

    def to_json(self) -> dict[str, Any]:
        return {"started": _iso(self.started), "cursor": list(self.cursor) if self.cursor else None,
                "converged": self.converged, "failed": list(self.failed)}

    @classmethod
    def from_json(cls, data: Any) -> FullRun | None:
        if not isinstance(data, dict) or (started := _time(data.get("started"))) is None:
            return None
        cursor = data.get("cursor")
        valid = isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[0], str) and isinstance(cursor[1], int)
        converged, failed = data.get("converged"), data.get("failed")
        failed = tuple(i for i in failed if isinstance(i, int)) if isinstance(failed, list) else ()
        return cls(started, (cursor[0], cursor[1]) if valid and isinstance(cursor, list) else None,
                   converged if isinstance(converged, int) else 0, failed[:MAX_FAILED])


@dataclass(frozen=True)
class Record:
    """What the bot remembers between passes and processes.

    `watermark`: every job-match issue updated before it has been converged (a pass's start minus
    the overlap); `full_last`: when the last complete full reconcile started (closed issues
    updated since then are in the next one); `full_next`: when the next one is due; `full_run`:
    the one under way, if any."""

    watermark: datetime | None = None
    last_pass: datetime | None = None
    last_summary: str = ""
    full_last: datetime | None = None
    full_next: datetime | None = None
    full_run: FullRun | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = value.to_json() if isinstance(value, FullRun) else (
                _iso(value) if isinstance(value, datetime) or value is None else value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        summary = data.get("last_summary")
        return cls(
            watermark=_time(data.get("watermark")), last_pass=_time(data.get("last_pass")),
            last_summary=summary if isinstance(summary, str) else "",
            full_last=_time(data.get("full_last")), full_next=_time(data.get("full_next")),
            full_run=FullRun.from_json(data.get("full_run")),
        )


@dataclass
class Loaded:
    """What `load` found: the record (empty when none), and why it could not be read (None when
    it was read, or on the first run)."""

    record: Record
    problem: str | None = None
    first_run: bool = False


@dataclass
class Health:
    """What the status note shows besides the record (bot/status.py::health gathers it)."""

    hooks: list[dict[str, Any]] | None = field(default_factory=list)  # None: not visible to the bot
    owed_issues: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)                     # e.g. "covering 16 days in pages"


class StatusIssue:
    """The status issue of one project, as one process sees it: `load` once, then `save` after
    each pass (thread-safe: the catch-up and the full reconcile both save)."""

    def __init__(self, gitlab: Any) -> None:
        self.gitlab = gitlab
        self.iid: int | None = None
        self.note_id: int | None = None
        self.record = Record()
        self.health = Health()
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------

    def load(self) -> Loaded:
        """Read the record from GitLab. Raises GitLabError only for trouble worth retrying
        (GitLab down); a refusal or a missing issue or note is a `problem`."""
        try:
            loaded = self._load()
        except GitLabError as error:
            if error.status not in REFUSED:
                raise
            loaded = Loaded(Record(), f"GitLab refused to show the status issue ({error}): has the token lost its rights?")
        with self._lock:
            self.record = loaded.record
        return loaded

    def _load(self) -> Loaded:
        issues = self._status_issues()
        if not issues:
            if any(label.get("name") == LABEL for label in self.gitlab.labels()):
                return Loaded(Record(), f"no status issue labelled {LABEL} made by the bot is visible "
                                        "(deleted, or the bot can no longer see it)")
            return Loaded(Record(), first_run=True)
        self.iid = issues[0]
        found = self._record_note(self.iid)
        if found is None:
            return Loaded(Record(), f"the status issue #{self.iid} has no note of the bot's holding the watermark")
        self.note_id, data = found
        return Loaded(Record.from_json(data))

    def _status_issues(self) -> list[int]:
        """The iids of the bot's status issues, oldest first: the oldest is the one that counts."""
        bot_id = self.gitlab.bot_user.id
        return [int(issue["iid"]) for issue in self.gitlab.iter_issues(labels=[LABEL], state="all", order_by="created_at")
                if (issue.get("author") or {}).get("id") == bot_id]

    def _record_note(self, iid: int) -> tuple[int, dict[str, Any]] | None:
        """The bot's own note on issue `iid` holding the record, and the record's data."""
        bot_id = self.gitlab.bot_user.id
        for note in self.gitlab.notes(iid):
            if (note.get("author") or {}).get("id") != bot_id or note.get("system"):
                continue
            for marker in parse_markers(note.get("body")):
                if marker.kind == KIND and marker.source == SOURCE:
                    return int(note["id"]), marker.data
        return None

    # -- writing ----------------------------------------------------------------------------

    def update(self, **changes: Any) -> Record:
        """Change the record in memory (saved by the next `save`)."""
        with self._lock:
            self.record = replace(self.record, **changes)
            return self.record

    def save(self, health: Health | None = None, **changes: Any) -> Record:
        """Apply `changes` and write the record (and `health`) into the status note, making the
        issue and the note first when they do not exist (or were deleted meanwhile)."""
        with self._lock:
            self.record = replace(self.record, **changes)
            self.health = health or self.health
            body = render("status/note.md.j2", record=self.record, health=self.health,
                          marker=Markup(render_marker(KIND, SOURCE, **self.record.to_json())))
            self._write(body)
            return self.record

    def _write(self, body: str) -> None:
        if self.iid is not None and self.note_id is not None:
            try:
                self.gitlab.edit_note(self.iid, self.note_id, body)
                return
            except GitLabError as error:
                if error.status != 404:
                    raise
                log.warning("the status note #%s on issue #%s is gone; writing a new one", self.note_id, self.iid)
                self.iid = self.note_id = None
        if self.iid is None:
            issue = self.gitlab.create_issue(TITLE, render("status/issue.md.j2"), [LABEL], confidential=True)
            self.iid = int(issue["iid"])
            log.info("made the status issue #%s (%s)", self.iid, issue.get("web_url"))
            if self._keep_the_older():
                return self._write(body)
        self.note_id = int(self.gitlab.create_note(self.iid, body)["id"])

    def _keep_the_older(self) -> bool:
        """After making a status issue: when another replica made one at the same moment, close
        this younger one and write to the older, as every replica's `load` reads the oldest.
        True when the older one already holds a record note (then `self.note_id` is set)."""
        oldest = self._status_issues()[0]
        if oldest == self.iid:
            return False
        self.gitlab.edit_issue(self.iid, state_event="close")
        log.info("closed the status issue #%s: #%s, made at the same moment by another replica, counts",
                 self.iid, oldest)
        self.iid = oldest
        found = self._record_note(oldest)
        self.note_id = found[0] if found else None
        return found is not None
