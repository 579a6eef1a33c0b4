"""The review workflow, pure: "what GitLab says now" in, "what is owed" out. No I/O.

People ask for a state change in four ways, each a *source* the bot handles exactly once:
a state label edited by hand (`label_event:<id>`), a comment command (`note:<id>`), an award
emoji on the issue (`award:<id>`), and a call of the bot's API (`api:<request id>`). Unhandled
sources are replayed in creation order through the state machine from the last state the bot
recorded, so two reviewers acting at once end in one state, both recorded, the loser told why.

Every source that changed or refused something gets one note whose marker names it. A source
that asked for nothing new (a 👍 on an approved match) is *covered* by the next marker written,
so it is never replayed against a later state. The state labels are then made to show exactly
the final state, in one call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import REGISTRY, FollowUp, Happening, Incomplete, MoveTo, Request, ShowHelp, parse_commands
from bot.send_check import Unseen, unseen_change
from bot.config.settings import ACCESS_LEVELS, WorkflowSettings
from bot.lifecycle import AFTER_SENT
from bot.followup.later import parse_later
from bot.lifecycle.when import WhenError, parse_when
from bot.markers import Marker, parse_markers, source_id
from bot.snapshot import IssueSnapshot, LabelEvent

# Kinds of marker this module writes; only these record that a source was handled.
FOLLOW_UP_KINDS = ("snooze", "remind")   # bot/followup reads their times back
HISTORY_KINDS = frozenset({"transition", "refusal", "help", "mail", *FOLLOW_UP_KINDS})
API_ACTIONS = {"approve": "approved", "reject": "rejected", "send": "sent"}
# API actions that are comment commands of the lifecycle, built by the same registry.
LIFECYCLE_ACTIONS = ("reply", "interview", "offer", "hired", "decline", "turned-down", "withdraw")
_WITH = re.compile(r"^(?:with|mit)\s+(?P<who>.+?)(?:\s*[;,—–]\s*|\s+-\s+|$)(?P<note>.*)$", re.IGNORECASE | re.DOTALL)
SEND_STATE = "sent"
UNSEEN = "unseen_changes"  # the refusal that holds a send until someone with the right confirms


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ApiAction:
    """A state change asked for through the bot's API or CLI, by a caller we trust by token, or
    from a message (a Slack button, a WhatsApp reply) by a person mapped to a GitLab user, whose
    access level then decides as it would in GitLab."""

    request_id: str
    action: str  # "approve" | "reject" | "send" | "reopen" | one of LIFECYCLE_ACTIONS
    actor: str
    reason: str | None = None  # the reason, note, summary or terms
    created_at: datetime = field(default_factory=_now)
    when: str | None = None  # interview: the round's time, as a person would type it
    with_: str | None = None  # interview: with whom
    channel: str = "api"  # "api" | "slack" | "whatsapp": also the kind of its source id
    user_id: int | None = None  # the GitLab user a message's sender maps to; None: trusted by token
    username: str | None = None
    link: str | None = None  # the message the decision was made in
    expects: str | None = None  # the state the person saw; in any other, someone decided first


@dataclass(frozen=True)
class MailAnswer:
    """A mail from the mailbox matched to this application (bot/replies): an answer moves the
    match like `/reply`, a calendar REQUEST like `/interview`; automatic mail and bounces are
    only noted (`noted`: "automatic" | "bounce"). `details` is what the history note shows."""

    message_id: str
    sender: str  # the sender as shown: name and address
    at: datetime
    summary: str | None = None  # the reply's summary, as `/reply <summary>` would give it
    round_when: str | None = None  # an invitation's start, ISO 8601 with its offset
    noted: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MailNoted:
    """A mail recorded on the issue without moving it: an auto-reply or a bounce."""

    what: str


@dataclass(frozen=True)
class Actor:
    user_id: int | None  # None for API callers, who are not GitLab users
    username: str | None
    name: str


@dataclass(frozen=True)
class LabelsRemoved:
    """A person took state labels off and put no other state label on."""

    states: tuple[str, ...]


@dataclass(frozen=True)
class SeveralStates:
    """A person put several state labels on at once."""

    states: tuple[str, ...]


@dataclass(frozen=True)
class Reopened:
    """Someone reopened the issue a final state had closed: back to the state before it."""

    state: str


@dataclass(frozen=True)
class Source:
    id: str
    channel: str  # "label" | "comment" | "emoji" | "api" | "slack" | "whatsapp"
    actor: Actor
    at: datetime
    order: int
    requests: tuple[Request | LabelsRemoved | SeveralStates | Reopened | MailNoted, ...]
    covers: tuple[str, ...] = ()  # further sources handled with this one (label events of one edit)
    link: str | None = None
    internal: bool = False
    expects: str | None = None  # asks for nothing unless the match is still in this state
    mail: dict[str, Any] | None = None  # channel "mail": sender, date, subject, excerpt, attachments


@dataclass(frozen=True)
class Verdict:
    """What the bot did about one request. `kind`: transition, refusal or help."""

    kind: str
    from_state: str
    to_state: str
    why: str = ""  # refusal: forbidden | no_right | already | removed | several | unknown_state
    #                | not_recorded | bad_time | incomplete | not_allowed | bad_later
    text: str | None = None  # the reason or note that came with the request
    needed: str | None = None  # refusal no_right: the access level needed
    had: str | None = None  # and the one the person has
    allowed: tuple[str, ...] = ()  # refusal forbidden: where the match can go from here
    unknown: str | None = None  # help: the verb we did not understand
    happened: dict[str, Any] | None = None  # lifecycle: {"happened": reply|round|offer, ...}
    unseen: Unseen | None = None  # refusal unseen_changes: what changed, and who changed it
    editors_access: tuple[str, ...] = ()  # and the access each of `unseen.editors` has


@dataclass(frozen=True)
class Reply:
    """One note owed: the outcomes of one source, and the state after it."""

    source: Source
    outcomes: tuple[Verdict, ...]
    state: str
    covers: tuple[str, ...]
    internal: bool

    @property
    def kind(self) -> str:
        kinds = {o.kind for o in self.outcomes}
        return next(k for k in ("transition", "refusal", *FOLLOW_UP_KINDS, "help", "mail") if k in kinds)

    @property
    def mentions(self) -> bool:
        """Refusals @mention the person so they learn why; history only names them."""
        return self.kind == "refusal" and self.source.actor.username is not None


@dataclass(frozen=True)
class Plan:
    start_state: str
    final_state: str
    replies: tuple[Reply, ...]
    add_labels: tuple[str, ...]
    remove_labels: tuple[str, ...]
    close: bool = False  # the last reply reached a state that closes the issue
    due_date: str | None = None  # the issue's due date as it should be (the next round)
    change_due_date: bool = False

    @property
    def empty(self) -> bool:
        return not (self.replies or self.add_labels or self.remove_labels or self.change_due_date)


def access_name(level: int) -> str:
    return max((n for n, v in ACCESS_LEVELS.items() if v <= level), key=ACCESS_LEVELS.__getitem__)


def is_job_match(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> bool:
    """An issue the bot looks after: staged by it, or labelled as a match."""
    state_labels = {s.label for s in workflow.states.values()}
    return (
        snapshot.match_marker is not None
        or workflow.marker_label in snapshot.labels
        or bool(state_labels & set(snapshot.labels))
    )


def handled_sources(snapshot: IssueSnapshot) -> set[str]:
    handled: set[str] = set()
    for marker in snapshot.bot_markers:
        if marker.kind in HISTORY_KINDS:
            handled.add(marker.source)
            handled.update(str(s) for s in marker.data.get("covers", ()))
    return handled


def recorded_state(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> str:
    """The state the bot last wrote down; before any record, what the labels said before people."""
    for marker in reversed(snapshot.bot_markers):
        if marker.kind in HISTORY_KINDS and marker.data.get("state") in workflow.states:
            return marker.data["state"]
    labels = set(snapshot.labels)
    for event in reversed(snapshot.label_events):
        if event.user_id != snapshot.bot_user.id:
            (labels.discard if event.action == "add" else labels.add)(event.label)
    states = [workflow.state_of_label(label) for label in sorted(labels)]
    present = [s for s in states if s is not None]
    return present[0] if len(present) == 1 else workflow.initial_state


# -- sources ------------------------------------------------------------------------------


def _label_sources(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> list[Source]:
    """One source per hand edit: the state label events one person made in one call."""
    people = [
        e for e in snapshot.label_events
        if e.user_id != snapshot.bot_user.id and workflow.state_of_label(e.label) is not None
    ]
    sources: list[Source] = []
    for (_, _), group in groupby(people, key=lambda e: (e.user_id, e.created_at)):
        events: list[LabelEvent] = list(group)
        first = events[0]
        states = [(e.action, workflow.state_of_label(e.label)) for e in events]
        added = tuple(state for action, state in states if action == "add" and state is not None)
        removed = tuple(state for action, state in states if action == "remove" and state is not None)
        if len(added) == 1:
            request: MoveTo | LabelsRemoved | SeveralStates = MoveTo(added[0])
        elif added:
            request = SeveralStates(tuple(sorted(set(added))))
        else:
            request = LabelsRemoved(removed)
        sources.append(
            Source(
                id=source_id("label_event", first.id),
                channel="label",
                actor=Actor(first.user_id, first.username, first.user_name),
                at=first.created_at,
                order=first.id,
                requests=(request,),
                covers=tuple(source_id("label_event", e.id) for e in events[1:]),
            )
        )
    return _drop_removals_followed_by_adds(sources)


def _drop_removals_followed_by_adds(sources: list[Source]) -> list[Source]:
    """Taking a state label off and then putting another on is one change in two clicks."""
    kept: list[Source] = []
    for index, source in enumerate(sources):
        if isinstance(source.requests[0], LabelsRemoved) and any(
            not isinstance(later.requests[0], LabelsRemoved) for later in sources[index + 1 :]
        ):
            kept.append(replace(source, requests=()))
        else:
            kept.append(source)
    return kept


def _note_sources(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> list[Source]:
    sources: list[Source] = []
    for note in snapshot.notes:
        if note.system or note.author_id == snapshot.bot_user.id:
            continue
        if note.internal and not workflow.confidential.handle:
            continue
        commands = parse_commands(note.body, snapshot.bot_user.username)
        if not commands:
            continue
        sources.append(
            Source(
                id=source_id("note", note.id),
                channel="comment",
                actor=Actor(note.author_id, note.author_username, note.author_name),
                at=note.created_at,
                order=note.id,
                requests=tuple(c.request(workflow) for c in commands),
                link=snapshot.note_url(note.id),
                internal=note.internal,
            )
        )
    return sources


def _award_sources(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> list[Source]:
    emoji = workflow.emoji
    if not emoji.enabled:
        return []
    targets = {emoji.approve: "approved", emoji.reject: "rejected"}
    return [
        Source(
            id=source_id("award", award.id),
            channel="emoji",
            actor=Actor(award.user_id, award.username, award.user_name),
            at=award.created_at,
            order=award.id,
            requests=(MoveTo(targets[award.name]),),
        )
        for award in snapshot.awards
        if award.name in targets and award.user_id != snapshot.bot_user.id
    ]


def _api_request(action: ApiAction, workflow: WorkflowSettings) -> Request:
    """The request an API action stands for: a lifecycle action as its comment command would ask."""
    if action.action == "interview":
        request = REGISTRY["interview"].build(action.when, workflow)
        return MoveTo("interview", action.reason, Happening("round", action.when, action.with_)) if action.when else request
    if action.action in LIFECYCLE_ACTIONS:
        return REGISTRY[action.action].build(action.reason, workflow)
    state = workflow.initial_state if action.action == "reopen" else API_ACTIONS.get(action.action)
    return MoveTo(state or action.action, action.reason)


def _api_sources(actions: Iterable[ApiAction], workflow: WorkflowSettings) -> list[Source]:
    return [
        Source(
            id=source_id(action.channel, action.request_id),
            channel=action.channel,
            actor=Actor(action.user_id, action.username, action.actor),
            at=action.created_at,
            order=0,
            requests=(_api_request(action, workflow),),
            link=action.link,
            expects=action.expects,
        )
        for action in actions
    ]


def _mail_request(mail: MailAnswer) -> Request | MailNoted:
    if mail.noted:
        return MailNoted(mail.noted)
    if mail.round_when:
        return MoveTo("interview", mail.summary, Happening("round", mail.round_when))
    return MoveTo("sent", mail.summary, Happening("reply"))


def _mail_sources(mails: Iterable[MailAnswer]) -> list[Source]:
    """Mail matched to this application: the sender is no GitLab user, so no right is checked
    (the operator switched the mailbox on); the source is the mail's Message-ID, recorded once."""
    return [
        Source(
            id=source_id("mail", mail.message_id),
            channel="mail",
            actor=Actor(None, None, mail.sender),
            at=mail.at,
            order=0,
            requests=(_mail_request(mail),),
            mail=mail.details,
        )
        for mail in mails
    ]


def _final_marker(snapshot: IssueSnapshot, state: str) -> Marker | None:
    """The bot's record of the step into `state`, the latest one."""
    steps = [m for m in snapshot.bot_markers if m.kind == "transition" and m.data.get("to") == state]
    return steps[-1] if steps else None


def _reopen_source(snapshot: IssueSnapshot, workflow: WorkflowSettings, state: str) -> Source | None:
    """The issue is open although the bot closed it with the step into `state`: someone reopened it.

    The bot closes an issue with the same note that records the step (a `/close` line), so an open
    issue after such a note was reopened by a person, never left open by a crash half-way."""
    if state not in workflow.lifecycle.close or snapshot.state != "opened":
        return None
    closing = _final_marker(snapshot, state)
    if closing is None or not isinstance(closing.data.get("from"), str):
        return None
    return Source(
        id=source_id("reopen", closing.source),
        channel="reopen",
        actor=Actor(None, None, "whoever reopened the issue"),
        at=snapshot.updated_at,
        order=0,
        requests=(Reopened(closing.data["from"]),),
    )


def pending_sources(
    snapshot: IssueSnapshot, workflow: WorkflowSettings, api_actions: Sequence[ApiAction] = (),
    mails: Sequence[MailAnswer] = (),
) -> list[Source]:
    """Sources the bot has not handled yet, oldest first."""
    handled = handled_sources(snapshot)
    reopened = _reopen_source(snapshot, workflow, recorded_state(snapshot, workflow))
    first = [reopened] if reopened is not None and reopened.id not in handled else []  # back where it was, first
    every = (
        _label_sources(snapshot, workflow)
        + _note_sources(snapshot, workflow)
        + _award_sources(snapshot, workflow)
        + _api_sources(api_actions, workflow)
        + _mail_sources(mails)
    )
    channels = ("label", "comment", "emoji", "api", "slack", "whatsapp", "mail")
    unhandled = [s for s in every if s.id not in handled]
    return first + sorted(unhandled, key=lambda s: (s.at, channels.index(s.channel), s.order))


# -- the state machine --------------------------------------------------------------------


SendCheck = Callable[[bool, int], "Unseen | None"]
"""(confirmed, access needed) -> the description edits nobody with the right has seen."""


def _move(
    request: MoveTo,
    current: str,
    source: Source,
    workflow: WorkflowSettings,
    access_level: Callable[[int], int],
    send_check: SendCheck | None = None,
) -> Verdict | None:
    happening = request.happening
    # A reply ends no-reply; anywhere else it is recorded where the match is.
    target = current if happening and happening.kind == "reply" and current != "no-reply" else request.state

    def refuse(why: str, **more: Any) -> Verdict:
        return Verdict("refusal", current, target, why, **{"text": request.text, **more})

    if target not in workflow.states:
        return refuse("unknown_state")
    if target == current and happening is None:
        # Labels and emoji that match the state ask for nothing; a command deserves an answer.
        return None if source.channel in ("label", "emoji") else refuse("already")
    rule = next((t for t in workflow.transitions if (t.from_state, t.to_state) == (current, target)), None)
    if rule is None and target == current:
        recording = tuple(t.from_state for t in workflow.transitions if t.from_state == t.to_state)
        return refuse("not_recorded", allowed=recording, unknown=happening.kind if happening else None)
    if rule is None:
        allowed = tuple(t.to_state for t in workflow.transitions if t.from_state == current)
        return refuse("forbidden", allowed=allowed)
    if source.actor.user_id is not None:
        level = access_level(source.actor.user_id)
        if level < ACCESS_LEVELS[rule.min_access]:
            return refuse("no_right", needed=rule.min_access, had=access_name(level))
    if target == SEND_STATE and happening is None and current not in AFTER_SENT and send_check is not None:
        # Sending the application, not a step of its life after (a reply ends no-reply, say).
        unseen = send_check(request.confirmed, ACCESS_LEVELS[rule.min_access])
        if unseen is not None:
            access = tuple(access_name(access_level(person.id)) for person in unseen.editors)
            return refuse(UNSEEN, needed=rule.min_access, unseen=unseen, editors_access=access)
    if happening is None:
        return Verdict("transition", current, target, text=request.text)
    if happening.kind != "round":
        return Verdict("transition", current, target, text=request.text, happened={"happened": happening.kind})
    try:
        return _round(current, target, happening, request.text, source.at, workflow)
    except WhenError as error:
        return refuse("bad_time", text=str(error))


def _round(current: str, target: str, happening: Happening, note: str | None, at: datetime,
           workflow: WorkflowSettings) -> Verdict:
    """An interview round: its time read in the configured zone, then `with …` and a note."""
    moment, rest = parse_when(happening.when or "", now=at, zone=workflow.lifecycle.timezone)
    who = happening.with_
    if rest and who is None and (said := _WITH.match(rest)):
        who, rest = said.group("who").strip(), said.group("note").strip()
    text = "; ".join(part for part in (rest, note) if part) or None
    happened = {"happened": "round", "when": moment.isoformat(), "zone": workflow.lifecycle.timezone,
                **({"with": who} if who else {})}
    return Verdict("transition", current, target, text=text, happened=happened)


def _follow_up(request: FollowUp, current: str, source: Source, workflow: WorkflowSettings,
               access_level: Callable[[int], int]) -> Verdict:
    """`/snooze` or `/remind`: the time it names, read against the comment's own time."""
    def refuse(why: str, **more: Any) -> Verdict:
        return Verdict("refusal", current, current, why, unknown=request.kind, **more)

    if source.actor.user_id is not None:
        level = access_level(source.actor.user_id)
        if level < ACCESS_LEVELS[request.min_access]:
            return refuse("not_allowed", needed=request.min_access, had=access_name(level))
    try:
        moment, rest = parse_later(request.argument, now=source.at, zone=workflow.lifecycle.timezone)
    except WhenError as error:
        return refuse("bad_later", text=str(error))
    if request.kind == "snooze":
        return Verdict("snooze", current, current, text=rest or None, happened={"until": moment.isoformat()})
    return Verdict("remind", current, current, text=rest or None, happened={"due": moment.isoformat()})


def last_hold(snapshot: IssueSnapshot) -> datetime | None:
    """When the bot last stopped a send to ask for a confirmation (the time of its note)."""
    held = [
        note.created_at for note in snapshot.notes
        if note.author_id == snapshot.bot_user.id and not note.system
        and any(m.kind == "refusal" and UNSEEN in m.data.get("refused", ()) for m in parse_markers(note.body))
    ]
    return max(held, default=None)


def send_check_for(snapshot: IssueSnapshot, access_level: Callable[[int], int]) -> SendCheck:
    """The check `send` passes before it moves the match: a plain send looks at every edit since
    staging; a confirmation at the edits made after the bot's last question, which the person
    confirming cannot have seen."""

    def check(confirmed: bool, needed: int) -> Unseen | None:
        since = (last_hold(snapshot) if confirmed else None) or snapshot.created_at
        return unseen_change(snapshot, since, needed, access_level)

    return check


def _outcome(
    request: Request | LabelsRemoved | SeveralStates | Reopened | MailNoted,
    current: str,
    source: Source,
    workflow: WorkflowSettings,
    access_level: Callable[[int], int],
    send_check: SendCheck | None = None,
) -> Verdict | None:
    if source.expects not in (None, current):
        return None  # a second press, or someone decided first: nothing to do, nothing to say
    if isinstance(request, MoveTo):
        return _move(request, current, source, workflow, access_level, send_check)
    if isinstance(request, Reopened):
        return Verdict("transition", current, request.state)
    if isinstance(request, FollowUp):
        return _follow_up(request, current, source, workflow, access_level)
    if isinstance(request, MailNoted):
        return Verdict("mail", current, current, happened={"happened": request.what})
    if isinstance(request, Incomplete):
        return Verdict("refusal", current, current, "incomplete", text=request.usage)
    if isinstance(request, ShowHelp):
        return Verdict("help", current, current, unknown=request.unknown)
    if isinstance(request, SeveralStates):
        return Verdict("refusal", current, current, "several", allowed=request.states)
    return Verdict("refusal", current, current, "removed") if current in request.states else None


def plan(
    snapshot: IssueSnapshot,
    workflow: WorkflowSettings,
    access_level: Callable[[int], int],
    api_actions: Sequence[ApiAction] = (),
    guard_send: bool = False,
    mails: Sequence[MailAnswer] = (),
) -> Plan:
    """What is owed on this issue: notes for unhandled sources, then one label fix.

    `guard_send` (the bot mails the application on `send`): a send whose recipient or draft was
    last changed by someone below send's right stops and asks instead (`UNSEEN`)."""
    send_check = send_check_for(snapshot, access_level) if guard_send else None
    start = current = recorded_state(snapshot, workflow)
    replies: list[Reply] = []
    quiet: list[str] = []  # handled without a note; covered by the next marker
    history_internal = snapshot.confidential and workflow.confidential.internal_history
    recorded_rounds = [m.data for m in snapshot.bot_markers if m.kind == "transition" and m.data.get("happened") == "round"]
    rounds = len(recorded_rounds)
    for source in pending_sources(snapshot, workflow, api_actions, mails):
        outcomes: list[Verdict] = []
        for request in source.requests:
            outcome = _outcome(request, current, source, workflow, access_level, send_check)
            if outcome is not None and outcome.happened and outcome.happened.get("happened") == "round":
                rounds += 1
                outcome = replace(outcome, happened={**outcome.happened, "round": rounds})
            if outcome is not None:
                outcomes.append(outcome)
                current = outcome.to_state if outcome.kind == "transition" else current
        if not outcomes:
            quiet.extend((source.id, *source.covers))
            continue
        replies.append(
            Reply(
                source=source,
                outcomes=tuple(outcomes),
                state=current,
                covers=tuple(quiet) + source.covers,
                internal=history_internal or source.internal,
            )
        )
        quiet = []
    wanted = workflow.states[current].label
    stale = [s.label for s in workflow.states.values() if s.label != wanted and s.label in snapshot.labels]
    new_rounds = [o.happened for r in replies for o in r.outcomes if o.happened and o.happened.get("happened") == "round"]
    due = next_round_day([*recorded_rounds, *new_rounds], workflow) if current == "interview" else None
    if current in (workflow.initial_state, "approved"):
        due = _apply_by(snapshot)   # the last day to apply, while it is still ahead of the match
    moved = [r for r in replies if r.kind == "transition"]
    return Plan(
        start_state=start,
        final_state=current,
        replies=tuple(replies),
        add_labels=() if wanted in snapshot.labels else (wanted,),
        remove_labels=tuple(stale),
        # The last step recorded here closes the issue when it ends in a closing state; an open
        # issue already in one was reopened (its reopen source is among these steps).
        close=bool(moved) and current in workflow.lifecycle.close and snapshot.state == "opened",
        due_date=due,
        change_due_date=due != snapshot.due_date,
    )


def _apply_by(snapshot: IssueSnapshot) -> str | None:
    """The match's `apply_by` (staged with it; YYYY-MM-DD), which stays the issue's due date."""
    value = (snapshot.match_marker.data if snapshot.match_marker else {}).get("apply_by")
    return value if isinstance(value, str) else None


def next_round_day(rounds: Sequence[dict[str, Any]], workflow: WorkflowSettings) -> str | None:
    """The issue's due date while interviewing: the day of the latest round scheduled, in the
    configured zone (the round recorded last is the one still ahead)."""
    moments = []
    for data in rounds:
        try:
            moments.append(datetime.fromisoformat(str(data.get("when"))))
        except ValueError:
            continue
    if not moments:
        return None
    return max(moments).astimezone(ZoneInfo(workflow.lifecycle.timezone)).date().isoformat()
