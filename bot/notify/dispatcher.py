"""The dispatcher: who hears what, when, on which channel — and GitLab remembers it.

What is owed comes from GitLab alone (bot/notify/owed.py): events the bot recorded with a marker
and no `notified` marker for a channel. Before a message goes out its intent is on record (a
`sending` marker), after it the delivery is (`notified`). A process that dies between sending and
recording leaves the intent behind, and the message goes out again marked as a possible repeat;
nothing else ever repeats.

The intent costs no write of its own in the common case: when the converge records a transition
or a refusal, it asks `intent_for` which channels will hear of it right away and writes their
`sending` markers into that same history note; the round then writes one record note. A message
without such an intent (a staged match, one held back) gets a round note written first with the
intent and edited into the record after.

Held messages (quiet hours, a staged match waiting for its cycle's summary, a failing channel)
are found again after a restart through a label, `vorhoelle/notify-owed` by default, that sits
on an issue while something is owed on it: one `labels=` query finds every such issue however
long ago it was held — a time window could silently drop a message held longer than the window,
and the label also tells a person looking at the issue that a message is pending. Rounds run one
at a time; an issue arriving while one runs waits in memory and the running round takes it next,
without the label: were the process to die, the markers still say what is owed, and the start-up
catch-up converges the issue again.

Channels are isolated: each is sent to in its own thread, retried with back-off (tenacity,
honouring `Retry-After`), and a channel that keeps failing rests (1, 2, 4... minutes) and is
reported to the admin channel, while the others carry on.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from markupsafe import Markup
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from bot import metrics
from bot.gitlab_access import GitLabError
from bot.markers import Marker, parse_markers, render_marker
from bot.notify import claims
from bot.notify.channel import Channel, ChannelError
from bot.notify.clock import Clock, QuietWindow, system_clock
from bot.notify.message import Item, Message, item_of
from bot.notify.owed import (
    NOTIFIED, SENDING, STAGED, UNSENT, DeliveryKey, IntentKey, Owed, Recorded, delivery_key, family, marker_time, owed,
    recorded_in,
)
from bot.notify.watch import NOTIFICATIONS, HealthWatch
from bot.render import render
from bot.config.settings import Settings
from bot.snapshot import IssueSnapshot, read_snapshot

log = logging.getLogger(__name__)

ROUND = "delivery"   # the marker kind of a delivery record note


@dataclass(frozen=True)
class Outcome:
    channel: str
    ok: bool
    detail: str


@dataclass
class ChannelHealth:
    failed_rounds: int = 0
    resting_until: datetime | None = None
    reported: bool = False
    last_error: str = ""


class NotePacer:
    """Keeps the bot's note creations under GitLab's per-minute limit by waiting when needed."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None] = time.sleep):
        self.per_minute = per_minute
        self.sleep = sleep
        self._recent: deque[float] = deque()

    def wait_turn(self) -> None:
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        if len(self._recent) >= self.per_minute:
            self.sleep(60 - (now - self._recent[0]))
        self._recent.append(time.monotonic())


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        gitlab: Any,
        channels: Mapping[str, Channel],
        *,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
        problems: Mapping[str, str] | None = None,
    ):
        self.settings = settings
        self.problems = dict(problems or {})   # enabled channels that could not be built
        self.notify = settings.notify
        self.gitlab = gitlab
        self.channels = dict(channels)
        self.clock = clock
        self.sleep = sleep
        self.quiet = QuietWindow.from_settings(self.notify.quiet_hours)
        self.health = {name: ChannelHealth() for name in self.channels}
        self.pacer = NotePacer(self.notify.notes_per_minute, sleep)
        self._lease = timedelta(seconds=self.notify.claim_lease_seconds)
        self._lock = threading.Lock()          # one round at a time
        self._memory_lock = threading.Lock()   # guards the two sets below across threads
        # Deliveries this process recorded, for snapshots read before the record was written.
        self._recorded: OrderedDict[tuple[int, DeliveryKey], None] = OrderedDict()
        self._in_flight: set[tuple[int, DeliveryKey]] = set()
        # Intents this process wrote: True until a round resolved them (sent or recorded unsent).
        self._intents: OrderedDict[tuple[int, IntentKey], bool] = OrderedDict()
        self._queued: dict[int, tuple[IssueSnapshot, bool]] = {}   # for the round after this one
        self._unsaved: dict[tuple[int, str], tuple[int | None, str]] = {}   # records GitLab refused, to retry
        self.watch = HealthWatch(self.report_health, report_after=self.notify.retry.report_after_rounds)

    # -- entry points -----------------------------------------------------------------------

    def on_staged(self, snapshots: Sequence[IssueSnapshot]) -> None:
        """A staging cycle ended: one summary per channel for its matches (unless held)."""
        self._run(snapshots, cycle=True, wait=30)

    def on_converged(self, snapshot: IssueSnapshot) -> None:
        """An issue was converged: tell what changed. Never blocks the converge for long."""
        self._run([snapshot], cycle=False, wait=0)

    def intent_for(self, snapshot: IssueSnapshot, marker: Marker) -> list[str]:
        """The `sending` markers for the note about to record `marker` on `snapshot`'s issue: the
        channels its event goes to right away. Written with that note, they spare the round an
        intent note of its own. A target naming its recipient (`whatsapp:+49…`) is left to the
        round's internal note: a history note may be public."""
        now = self.clock()
        recorded = [*recorded_in(snapshot), Recorded(marker, marker_time(marker) or now)]
        items = [item for item in self._owed(snapshot, now, recorded)
                 if item.event.source == marker.source and family(item.channel) == item.channel
                 and not item.intended and self._is_due(item, now, cycle=False)]
        if not items:
            return []
        round_id = new_round_id()
        self._remember_intents(snapshot.iid, items, round_id)
        return [self._marker(SENDING, item, round=round_id) for item in items]

    def flush_due(self) -> None:
        """Deliver what was held and is due now: call it every minute or so."""
        if self.quiet is not None and self.quiet.is_quiet(self.clock()):
            return
        self._retry_unsaved()
        try:
            iids = [issue["iid"] for issue in self.gitlab.iter_issues(labels=[self.notify.owed_label])]
            snapshots = [read_snapshot(self.gitlab, iid) for iid in iids]
        except GitLabError as exc:
            self._gitlab_failed(exc)
            return
        if snapshots:
            log.info("flushing held notifications of %d issue(s)", len(snapshots))
        self._run(snapshots, cycle=False, wait=0)

    def test(self, only: str | None = None) -> dict[str, Outcome]:
        """Send a test message on each enabled channel (or `only` that one); say what happened."""
        names = [name for name in [*self.channels, *self.problems] if only in (None, family(name))] or [only]
        message = Message(kind="test", text="Test message: notifications from Vorhölle reach you here.")
        outcomes = {}
        for name in names:
            if name in self.channels:
                outcomes[name] = self._send(self.channels[name], message)
            else:
                why = self.problems.get(name, "not enabled")
                outcomes[name] = Outcome(name, False, f"channel {name!r} cannot send: {why}")
        return outcomes

    def report_health(self, text: str, *, trouble: bool = True) -> None:
        """Tell the admin channel about the bot's own trouble (a disabled hook, failing calls), or
        (`trouble=False`) that it is over."""
        log.log(logging.ERROR if trouble else logging.INFO, "health: %s", text)
        for name, channel in self.channels.items():
            if family(name) != self.notify.admin_channel:
                continue
            resting = self.health[name].resting_until
            if resting is not None and resting > self.clock():
                log.warning("admin channel %s is itself failing; the report stays in the log", name)
                continue
            self._send(channel, Message(kind="health", text=text))

    # -- a round ----------------------------------------------------------------------------

    def _run(self, snapshots: Sequence[IssueSnapshot], *, cycle: bool, wait: float) -> None:
        """Queue the issues, then run rounds until the queue is empty — unless another thread is
        running them, in which case it takes these next."""
        self._enqueue(snapshots, cycle)
        acquired = self._lock.acquire(timeout=wait) if wait else self._lock.acquire(blocking=False)
        while acquired:
            try:
                rounds = self._take_queued() or [([], cycle)]   # nothing owed: GitLab answered all the same
                while rounds:
                    for batch, batch_cycle in rounds:
                        self._guarded_round(batch, cycle=batch_cycle)
                    rounds = self._take_queued()
            finally:
                self._lock.release()
            # Queued between the last take and the release: nobody else may have seen it.
            acquired = bool(self._queued) and self._lock.acquire(blocking=False)

    def _enqueue(self, snapshots: Iterable[IssueSnapshot], cycle: bool) -> None:
        """One entry per issue: the snapshot that knows more wins; a staging cycle's stays one."""
        with self._memory_lock:
            for snapshot in snapshots:
                earlier, earlier_cycle = self._queued.get(snapshot.iid, (None, False))
                if earlier is not None and _knows_more(earlier, snapshot):
                    snapshot = earlier
                self._queued[snapshot.iid] = (snapshot, cycle or earlier_cycle)

    def _take_queued(self) -> list[tuple[list[IssueSnapshot], bool]]:
        """Everything queued, as a staging cycle's round and a round of the rest."""
        with self._memory_lock:
            queued, self._queued = list(self._queued.values()), {}
        rounds = [([s for s, c in queued if c == cycle], cycle) for cycle in (True, False)]
        return [(batch, cycle) for batch, cycle in rounds if batch]

    def _guarded_round(self, snapshots: Sequence[IssueSnapshot], *, cycle: bool) -> None:
        try:
            self._round(snapshots, cycle=cycle)
            self.watch.ok(NOTIFICATIONS, "Notifications reach GitLab again.")
        except GitLabError as exc:
            self._gitlab_failed(exc)

    def _gitlab_failed(self, exc: GitLabError) -> None:
        """GitLab refused a round: held messages wait; the admin hears when it keeps happening."""
        self.watch.failed(NOTIFICATIONS, f"Notifications wait, GitLab keeps failing: {exc}")

    def _round(self, snapshots: Sequence[IssueSnapshot], *, cycle: bool) -> None:
        now = self.clock()
        due: list[tuple[IssueSnapshot, list[Owed]]] = []
        still_owed: set[int] = set()
        for snapshot in snapshots:
            owing = self._owed(snapshot, now)
            ready, held = [], []
            for item in owing:
                now_due = self._is_due(item, now, cycle) and not self._sending_elsewhere(snapshot, item, now)
                (ready if now_due else held).append(item)
            if held:
                still_owed.add(snapshot.iid)
            if ready:
                due.append((snapshot, ready))
        if due:
            still_owed |= self._deliver(due)
        for snapshot in snapshots:
            self._set_owed_label(snapshot, snapshot.iid in still_owed)

    def _owed(self, snapshot: IssueSnapshot, now: datetime, recorded: list[Recorded] | None = None) -> list[Owed]:
        with self._memory_lock:
            known = {key for iid, key in (*self._recorded, *self._in_flight) if iid == snapshot.iid}
            intents = {intent: unresolved for (iid, intent), unresolved in self._intents.items() if iid == snapshot.iid}
        return owed(
            recorded_in(snapshot) if recorded is None else recorded,
            rules=self.notify.events,
            enabled=list(self.channels),
            now=now,
            max_age=timedelta(days=self.notify.max_age_days),
            delivered=known,
            intents=intents,
        )

    def _is_due(self, item: Owed, now: datetime, cycle: bool) -> bool:
        if self.quiet is not None and self.quiet.is_quiet(now):
            return False
        resting = self.health[item.channel].resting_until
        if resting is not None and resting > now:
            return False
        if item.event.name == STAGED and self.notify.batch and not cycle and item.event.at is not None:
            # A fresh match waits for its cycle's summary (on_staged) before going out alone.
            return now - item.event.at >= timedelta(seconds=self.notify.batch_seconds)
        return True

    def _deliver(self, due: list[tuple[IssueSnapshot, list[Owed]]]) -> set[int]:
        """Intents where none is on record yet, sends per channel in parallel, records. Returns
        issues still owing."""
        round_id = new_round_id()
        notes: dict[int, int | None] = {}   # the round's note on each issue; None: none yet
        entries: list[tuple[IssueSnapshot, Owed]] = []
        still_owed: set[int] = set()
        for snapshot, items in due:
            fresh = [item for item in items if not item.intended or item.possible_repeat]   # each needs a claim
            try:
                notes[snapshot.iid] = self._write_intent(snapshot, fresh, round_id) if fresh else None
                beaten = self._beaten(snapshot.iid, notes[snapshot.iid], fresh, items, round_id)
            except GitLabError as exc:
                log.warning("issue #%d: cannot record the intent to notify (%s); holding", snapshot.iid, exc)
                still_owed.add(snapshot.iid)
                continue
            self._remember_intents(snapshot.iid, [item for item in fresh if item not in beaten], round_id)
            if beaten:
                still_owed.add(snapshot.iid)   # the winner's to record; the next flush looks again
                if len(beaten) == len(items):
                    del notes[snapshot.iid]
            entries += [(snapshot, item) for item in items if item not in beaten]
        flight = {(s.iid, o.event.key(o.channel)) for s, o in entries}
        with self._memory_lock:
            self._in_flight |= flight
        try:
            by_channel: dict[str, list[tuple[IssueSnapshot, Owed]]] = {}
            for snapshot, item in entries:
                by_channel.setdefault(item.channel, []).append((snapshot, item))
            with ThreadPoolExecutor(max_workers=max(1, len(by_channel)), thread_name_prefix="notify") as pool:
                futures = {name: pool.submit(self._send_channel, name, group) for name, group in by_channel.items()}
                results = {name: future.result() for name, future in futures.items()}
        finally:
            with self._memory_lock:
                self._in_flight -= flight
        for name, outcomes in results.items():
            self._note_health(name, [outcome for _, _, outcome in outcomes])
        for snapshot, _ in due:
            if snapshot.iid not in notes:
                continue
            mine = [(item, outcome) for name in results for s, item, outcome in results[name] if s.iid == snapshot.iid]
            if not all(outcome.ok for _, outcome in mine):
                still_owed.add(snapshot.iid)
            self._write_record(snapshot, notes[snapshot.iid], mine, round_id)
        return still_owed

    def _send_channel(
        self, name: str, group: list[tuple[IssueSnapshot, Owed]]
    ) -> list[tuple[IssueSnapshot, Owed, Outcome]]:
        """One message for the whole group (batch) or one per event; each entry's outcome."""
        template = self.settings.staging.title_template
        items = [(snapshot, owed_item, item_of(snapshot, owed_item, template)) for snapshot, owed_item in group]
        batches = [items] if self.notify.batch else [[entry] for entry in items]
        results = []
        for batch in batches:
            outcome = self._send(self.channels[name], self._message([item for _, _, item in batch]))
            results += [(snapshot, owed_item, outcome) for snapshot, owed_item, _ in batch]
        return results

    def _message(self, items: list[Item]) -> Message:
        """The message for `items`, with a link to every match waiting when some are new."""
        if not any(item.event == STAGED for item in items):
            return Message(items=tuple(items))
        pending = self.settings.workflow.states[self.settings.workflow.initial_state].label
        review = f"{self.gitlab.project.web_url}/-/issues?label_name[]={pending}"
        return Message(items=tuple(items), review_url=review)

    def _send(self, channel: Channel, message: Message) -> Outcome:
        retry = self.notify.retry
        fallback = wait_random_exponential(multiplier=1, max=retry.max_wait_seconds)

        def wait(state: Any) -> float:
            error = state.outcome.exception()
            if isinstance(error, ChannelError) and error.retry_after is not None:
                return min(error.retry_after, retry.max_wait_seconds)
            return fallback(state)

        retrying = Retrying(
            retry=retry_if_exception(lambda e: not (isinstance(e, ChannelError) and e.permanent)),
            stop=stop_after_attempt(retry.attempts),
            wait=wait,
            sleep=self.sleep,
            reraise=True,
        )
        counted = metrics.NOTIFICATIONS.labels   # by channel: a target may name a phone number
        try:
            receipt = retrying(channel.send, message)
        except ChannelError as exc:
            log.warning("%s: delivery failed: %s", channel.name, exc)
            counted(channel=family(channel.name), outcome="failed").inc()
            return Outcome(channel.name, False, str(exc))
        except Exception as exc:  # an adapter's bug must not take the other channels down
            log.exception("%s: delivery crashed", channel.name)
            counted(channel=family(channel.name), outcome="failed").inc()
            return Outcome(channel.name, False, f"{type(exc).__name__}: {exc}")
        log.info("%s: delivered %s (%d item(s)): %s", channel.name, message.kind, len(message.items), receipt)
        counted(channel=family(channel.name), outcome="sent").inc()
        return Outcome(channel.name, True, str(receipt))

    # -- more than one replica (bot/notify/claims.py) --------------------------------------

    def _sending_elsewhere(self, snapshot: IssueSnapshot, item: Owed, now: datetime) -> bool:
        """An intent this process did not write, not resolved and recent: another replica sends."""
        if not item.possible_repeat:
            return False
        with self._memory_lock:
            mine = {intent[1] for iid, intent in self._intents if iid == snapshot.iid}
        return claims.claimed_elsewhere(snapshot, item.event.key(item.channel), mine, now, self._lease)

    def _beaten(self, iid: int, note_id: int | None, fresh: list[Owed], items: list[Owed], round_id: str) -> list[Owed]:
        """The fresh claims another replica won; a round note holding nothing but those goes."""
        keys = [item.event.key(item.channel) for item in fresh]
        keys = claims.lost(self.gitlab, iid, keys, round_id, self.clock(), self._lease)
        beaten = [item for item in fresh if item.event.key(item.channel) in keys]
        if beaten:
            log.info("issue #%d: another replica claimed %d message(s) first; it sends them", iid, len(beaten))
        if beaten and len(beaten) == len(items) and note_id is not None:
            self.gitlab.delete_note(iid, note_id)
        return beaten

    def withdraw(self, iid: int, body: str) -> None:
        """The converge deleted a note it wrote (another replica's twin was older): the intents
        in it are no longer this process's to keep."""
        with self._memory_lock:
            for marker in parse_markers(body):
                intent = (iid, (delivery_key(marker), marker.data.get("round")))
                if marker.kind == SENDING and intent in self._intents:
                    self._intents[intent] = False

    # -- what GitLab records ----------------------------------------------------------------

    def _write_intent(self, snapshot: IssueSnapshot, items: list[Owed], round_id: str) -> int:
        """The round's note, holding its intents; raises when GitLab refuses it."""
        reusable, kept = self._failed_round_note(snapshot)
        markers = [*kept, *(self._marker(SENDING, o, round=round_id) for o in items)]
        body = self._note_body(round_id, markers, sending=sorted({o.channel for o in items}))
        if reusable is not None:
            self.gitlab.edit_note(snapshot.iid, reusable, body)
            return reusable
        self.pacer.wait_turn()
        return int(self.gitlab.create_note(snapshot.iid, body, internal=True)["id"])

    def _write_record(
        self, snapshot: IssueSnapshot, note_id: int | None, outcomes: list[tuple[Owed, Outcome]], round_id: str
    ) -> None:
        """The round's record: edits its intent note, or is the round's one note when every intent
        was on record already. A failed send resolves the intents this process wrote in history
        notes with `unsent` markers (its own round's intent is replaced by the record)."""
        kept: list[str] = []
        if note_id is None:
            note_id, kept = self._failed_round_note(snapshot)
        rounds = self._resolve_intents(snapshot.iid, {item.event.key(item.channel) for item, _ in outcomes})
        markers, lines, delivered = kept, {}, 0
        for item, outcome in outcomes:
            key = item.event.key(item.channel)
            if outcome.ok:
                markers.append(self._marker(NOTIFIED, item, receipt=outcome.detail[:100], possible_repeat=item.possible_repeat))
                self._remember(snapshot.iid, key)
                delivered += 1
            else:
                markers += [self._marker(UNSENT, item, round=r) for r in rounds.get(key, ()) if r != round_id]
            lines.setdefault(item.channel, self._line(item.channel, outcome))
        failed = sorted(name for name, line in lines.items() if not line["ok"])
        body = self._note_body(round_id, markers, lines=list(lines.values()), failed=failed, delivered=delivered)
        self._save(snapshot.iid, note_id, body, round_id)

    def _line(self, name: str, outcome: Outcome) -> dict[str, Any]:
        if outcome.ok:
            return {"channel": name, "ok": True, "outcome": "sent", "detail": outcome.detail}
        health = self.health[name]
        until = health.resting_until.strftime("%H:%M UTC") if health.resting_until else "the next round"
        detail = f"{outcome.detail}; failed {health.failed_rounds} round(s) in a row, next try after {until}"
        return {"channel": name, "ok": False, "outcome": "failed", "detail": detail}

    def _note_body(
        self, round_id: str, markers: list[str], *, sending: Sequence[str] = (),
        lines: Sequence[dict[str, Any]] = (), failed: Sequence[str] = (), delivered: int | None = None,
    ) -> str:
        """An intent (`sending`: the channels about to be tried) or a record (`lines`, `delivered`)."""
        summary = render_marker(ROUND, f"round:{round_id}", failed=list(failed), delivered=delivered)
        return render(
            "notify/record.md.j2", sending=list(sending), lines=list(lines),
            markers=Markup("\n".join([*markers, summary])),
        )

    def _marker(self, kind: str, item: Owed, **data: Any) -> str:
        return render_marker(kind, item.event.source, event=item.event.name, channel=item.channel, **data)

    def _failed_round_note(self, snapshot: IssueSnapshot) -> tuple[int | None, list[str]]:
        """The latest record note of a round that delivered nothing, to be edited rather than
        repeated, and the `unsent` markers in it that must stay."""
        for note in reversed(snapshot.notes):
            if note.author_id != snapshot.bot_user.id:
                continue
            markers = parse_markers(note.body)
            rounds = [m for m in markers if m.kind == ROUND]
            if rounds:
                if rounds[0].data.get("delivered") != 0:
                    return None, []
                return note.id, [render_marker(m.kind, m.source, **m.data) for m in markers if m.kind == UNSENT]
        return None, []

    def _save(self, iid: int, note_id: int | None, body: str, round_id: str) -> None:
        """Write a round's record (a new note when `note_id` is None); kept to retry on failure."""
        try:
            if note_id is None:
                self.pacer.wait_turn()
                self.gitlab.create_note(iid, body, internal=True)
            else:
                self.gitlab.edit_note(iid, note_id, body)
            self._unsaved.pop((iid, round_id), None)
        except GitLabError as exc:
            log.warning("issue #%d: cannot save the delivery record (%s); will retry", iid, exc)
            self._unsaved[(iid, round_id)] = (note_id, body)

    def _retry_unsaved(self) -> None:
        for (iid, round_id), (note_id, body) in list(self._unsaved.items()):
            self._save(iid, note_id, body, round_id)

    def _remember(self, iid: int, key: DeliveryKey) -> None:
        with self._memory_lock:
            self._recorded[(iid, key)] = None
            _trim(self._recorded)

    def _remember_intents(self, iid: int, items: Iterable[Owed], round_id: str) -> None:
        with self._memory_lock:
            for item in items:
                self._intents[(iid, (item.event.key(item.channel), round_id))] = True
            _trim(self._intents)

    def _resolve_intents(self, iid: int, keys: set[DeliveryKey]) -> dict[DeliveryKey, list[str]]:
        """Mark this process's intents for `keys` resolved; the rounds they were written for."""
        rounds: dict[DeliveryKey, list[str]] = {}
        with self._memory_lock:
            mine = [entry for entry, unresolved in self._intents.items() if unresolved and entry[0] == iid and entry[1][0] in keys]
            for entry in mine:
                self._intents[entry] = False
                rounds.setdefault(entry[1][0], []).append(str(entry[1][1]))
        return rounds

    def _set_owed_label(self, snapshot: IssueSnapshot, owing: bool) -> None:
        label = self.notify.owed_label
        if owing == (label in snapshot.labels):
            return
        try:
            if owing:
                self.gitlab.update_labels(snapshot.iid, add=[label])
            else:
                self.gitlab.update_labels(snapshot.iid, remove=[label])
        except GitLabError as exc:
            log.warning("issue #%d: cannot %s %s: %s", snapshot.iid, "add" if owing else "remove", label, exc)

    # -- channel health ---------------------------------------------------------------------

    def _note_health(self, name: str, outcomes: list[Outcome]) -> None:
        health = self.health[name]
        now = self.clock()
        if all(outcome.ok for outcome in outcomes):
            if health.reported:
                self.report_health(f"{name} works again after {health.failed_rounds} failed round(s).", trouble=False)
            self.health[name] = ChannelHealth()
            return
        health.failed_rounds += 1
        health.last_error = next(o.detail for o in outcomes if not o.ok)
        rest = min(2 ** (health.failed_rounds - 1), self.notify.retry.rest_max_minutes)
        health.resting_until = now + timedelta(minutes=rest)
        log.warning("%s failed %d round(s) in a row; resting %g min", name, health.failed_rounds, rest)
        if health.failed_rounds >= self.notify.retry.report_after_rounds and not health.reported:
            health.reported = True
            self.report_health(f"{name} keeps failing ({health.failed_rounds} rounds): {health.last_error}")


def new_round_id() -> str:
    return uuid.uuid4().hex[:12]


def _knows_more(one: IssueSnapshot, other: IssueSnapshot) -> bool:
    """Whether snapshot `one` of an issue was read after `other` (GitLab only adds notes)."""
    return (one.updated_at, len(one.notes)) > (other.updated_at, len(other.notes))


def _trim(memory: OrderedDict[Any, Any], size: int = 10_000) -> None:
    while len(memory) > size:
        memory.popitem(last=False)
