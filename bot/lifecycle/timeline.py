"""One application's timeline, read back from GitLab alone: the match marker (staged), the
`imported` marker (the spreadsheet's own dates) and the bot's `transition` markers (every step,
with who, when and how). The API, the CLI, the export and the dashboard all read it from here.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from pydantic import BaseModel, Field

from bot.snapshot import IssueSnapshot
from bot.tracker.dates import DateError, parse_date

IMPORTED_KIND = "imported"
# Dated columns of an imported row that are events of their own (the importer's marker keys).
IMPORTED_EVENTS = {"replied": "reply", "interviews": "round"}


class TimelineEvent(BaseModel):
    kind: str = Field(description="staged, imported, a state entered (approved, sent, hired, ...), "
                      "reply, round or offer.")
    at: datetime = Field(description="When it happened (an imported date: that day, 00:00 UTC).")
    state: str | None = Field(None, description="The workflow state after it.")
    who: str = Field("", description="The person's name (or the API caller's).")
    username: str | None = None
    via: str = Field(description="label, comment, emoji, api, reopen, staging or import.")
    text: str | None = Field(None, description="The reason, note, reply summary or offer terms.")
    when: datetime | None = Field(None, description="round: when the interview takes place.")
    with_: str | None = Field(None, alias="with", description="round: with whom.")
    round: int | None = Field(None, description="round: its number.")

    model_config = {"populate_by_name": True}


class Timeline(BaseModel):
    iid: int
    state: str | None = Field(description="The workflow state now.")
    events: list[TimelineEvent] = Field(description="Oldest first.")


def _day(value: Any) -> datetime | None:
    try:
        day = parse_date(value) if isinstance(value, str) else None
    except DateError:
        return None
    return datetime.combine(day, time(), tzinfo=timezone.utc) if day else None


BEFORE_SENT = ("pending", "approved", "rejected")


def _imported_events(data: dict[str, Any], state: str | None) -> list[TimelineEvent]:
    events = []
    applied = _day(data.get("applied"))
    if applied and state not in BEFORE_SENT:
        events.append(TimelineEvent(kind="sent", at=applied, state="sent", via="import"))
    for key, kind in IMPORTED_EVENTS.items():
        values = data.get(key)
        for number, value in enumerate(values if isinstance(values, list) else [values], 1):
            at = _day(value)
            if at:
                extra = {"round": number, "when": at} if kind == "round" else {}
                events.append(TimelineEvent(kind=kind, at=at, via="import", **extra))
    decided = _day(data.get("decided"))
    if decided and data.get("outcome"):
        events.append(TimelineEvent(kind=str(data["outcome"]), at=decided, state=str(data["outcome"]), via="import"))
    return events


def _step(data: dict[str, Any]) -> TimelineEvent | None:
    try:
        at = datetime.fromisoformat(str(data.get("at")))
    except ValueError:
        return None
    happened = data.get("happened")
    when = None
    if data.get("when"):
        try:
            when = datetime.fromisoformat(str(data["when"]))
        except ValueError:
            when = None
    return TimelineEvent(
        kind=str(happened or data.get("to")),
        at=at,
        state=data.get("state"),
        who=str(data.get("actor") or ""),
        username=data.get("username"),
        via=str(data.get("channel") or ""),
        text=data.get("text"),
        when=when,
        with_=data.get("with"),
        round=data.get("round") if isinstance(data.get("round"), int) else None,
    )


def read_timeline(snapshot: IssueSnapshot, state: str | None) -> Timeline:
    """Every event of the application behind `snapshot`, oldest first."""
    imported = next((m.data for m in snapshot.bot_markers if m.kind == IMPORTED_KIND), None)
    first = "imported" if imported else "staged"
    # An imported row is listed on its own application day; the day of the import means nothing.
    listed = (_day(imported.get("applied")) if imported else None) or snapshot.created_at
    events = [TimelineEvent(kind=first, at=listed, who=snapshot.author.name,
                            username=snapshot.author.username, via="import" if imported else "staging")]
    if imported:
        events += _imported_events(imported, state)
    for marker in snapshot.bot_markers:
        if marker.kind == "transition" and (marker.data.get("to") or marker.data.get("happened")):
            step = _step(marker.data)
            if step is not None:
                events.append(step)
    events.sort(key=lambda e: e.at)
    return Timeline(iid=snapshot.iid, state=state, events=events)
