"""One application as GitLab remembers it, derived from the issue's snapshot.

Everything the export and the dashboard show comes from here, so the reports need no state of
their own:

- the `match` marker in the description (staging or the importer wrote it) gives the score and,
  when it carries them, the job's facts; otherwise they are read from the description's tables;
- the `imported` marker says the issue came from the spreadsheet, with the row's own dates and
  notes;
- the timeline (bot/lifecycle/timeline.py) reads the bot's `transition` markers: every step with
  the reviewer behind it, the reason, and the lifecycle's replies, interview rounds and offers;
- label events adding a state label say when the application moved where no marker says so
  (an issue labelled before the bot looked after it).

Markers count only where the bot's own user wrote them (bot/snapshot.py sees to that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.markers import Marker
from bot.config.settings import WorkflowSettings
from bot.snapshot import IssueSnapshot
from bot.lifecycle import AFTER_SENT
from bot.lifecycle.timeline import IMPORTED_KIND, read_timeline
from bot.tracker.dates import DateError, parse_date, start_of_day
from bot.tracker.description import read_facts
from bot.tracker.job import Job
from bot.tracker.scores import ScoreRange

DECISIONS = ("approved", "rejected", "sent")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # "staged", "imported", the state entered, or reply | round | offer
    actor: str
    via: str = ""
    text: str | None = None
    when: datetime | None = None  # an interview round's time
    with_: str | None = None


@dataclass(frozen=True)
class Application:
    iid: int
    issue_url: str
    job: Job
    score: ScoreRange | None
    requirements_met: tuple[str, ...]
    requirements_missing: tuple[str, ...]
    skill_suggestions: tuple[str, ...]
    state: str
    imported: bool
    staged_at: datetime
    applied_at: datetime | None
    decided_at: datetime | None
    decided_by: str
    events: tuple[Event, ...]
    notes: str

    @property
    def last_event(self) -> Event:
        return self.events[-1]

    @property
    def reached(self) -> set[str]:
        """Every state the application has been in: sent implies approved, and every state after
        sending implies sent; an interview round means it reached interview."""
        states = {event.kind for event in self.events} | {self.state}
        states |= {"interview"} if "round" in states else set()
        if states & AFTER_SENT:
            states.add("sent")
        return states | {"approved"} if "sent" in states else states


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, list):
        return tuple(str(item) for item in value if item not in (None, ""))
    return ()


def _score(data: dict[str, Any]) -> ScoreRange | None:
    low = data.get("score")
    if not isinstance(low, int):
        return None
    high = data.get("score_max")
    return ScoreRange(low, high if isinstance(high, int) else low)


def _first(markers: tuple[Marker, ...], kind: str) -> dict[str, Any]:
    return next((m.data for m in markers if m.kind == kind), {})


def _row_day(value: Any) -> datetime | None:
    """A date the importer stored; a malformed one is ignored rather than fatal to the report."""
    try:
        day = parse_date(value) if isinstance(value, str) else None
    except DateError:
        return None
    return start_of_day(day) if day else None


def _state_events(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> list[Event]:
    """State labels people added after creation: the labels the issue was made with are no move,
    and the bot's own label fixes follow steps its markers already tell."""
    events = snapshot.label_events
    first = events[0] if events else None
    made_with = {e.id for e in events if first and e.created_at == first.created_at and e.user_id == snapshot.author.id}
    return [
        Event(at=e.created_at, kind=state, actor=e.username)
        for e in events
        if e.action == "add" and e.id not in made_with and e.user_id != snapshot.bot_user.id
        and (state := workflow.state_of_label(e.label)) is not None
    ]


def _job_facts(snapshot: IssueSnapshot) -> dict[str, Any]:
    """What the description's tables show, overridden by what the match marker says."""
    marker = snapshot.match_marker
    return {**read_facts(snapshot.description), **(marker.data if marker else {})}


def _timeline_events(snapshot: IssueSnapshot, state: str) -> list[Event]:
    return [
        Event(at=e.at, kind=e.kind, actor=e.username or e.who, via=e.via, text=e.text, when=e.when, with_=e.with_)
        for e in read_timeline(snapshot, state or None).events
    ]


def build_application(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> Application:
    """The application behind one job-match issue."""
    facts = _job_facts(snapshot)
    imported = _first(snapshot.bot_markers, IMPORTED_KIND)
    transitions = [m.data for m in snapshot.bot_markers if m.kind == "transition"]
    states = [workflow.state_of_label(label) for label in snapshot.labels]
    state = next((s for s in states if s), "")
    # An imported row's own date is when the application was made; the import date means nothing.
    listed = _row_day(imported.get("applied")) or snapshot.created_at
    events = _timeline_events(snapshot, state)
    recorded = {event.kind for event in events} | ({"interview"} if any(e.kind == "round" for e in events) else set())
    decided_day = _row_day(imported.get("decided"))
    if decided_day and state in DECISIONS and state not in recorded:
        events.append(Event(decided_day, state, ""))
    events += [e for e in _state_events(snapshot, workflow) if e.kind not in recorded]
    events.sort(key=lambda e: e.at)
    # A row's application date is no decision: the import only lists it (its "decided" column is).
    decision = next((e for e in events if e.kind in DECISIONS and e.via != "import"), None)
    decider = next((t for t in transitions if t.get("to") in DECISIONS), {})
    reasons = [str(t["text"]) for t in transitions if t.get("to") in DECISIONS and t.get("text")]
    sent = next((e.at for e in events if e.kind == "sent"), None)
    return Application(
        iid=snapshot.iid,
        issue_url=snapshot.web_url,
        job=Job.from_facts(facts, snapshot.title),
        score=_score(facts),
        requirements_met=_strings(facts.get("requirements_met")),
        requirements_missing=_strings(facts.get("requirements_missing")),
        skill_suggestions=_strings(facts.get("skill_suggestions")),
        state=state,
        imported=bool(imported),
        staged_at=listed,
        applied_at=listed if imported.get("applied") else sent,
        decided_at=decision.at if decision else None,
        decided_by=str(decider.get("username") or (decision.actor if decision else "")),
        events=tuple(events),
        notes="\n".join(filter(None, [str(imported.get("notes") or ""), *reasons])),
    )
