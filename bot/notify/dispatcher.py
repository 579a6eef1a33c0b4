"""The dispatcher: who hears what, when, on which channel — and GitLab remembers it.

What is owed comes from GitLab alone (bot/notify/owed.py): events the bot recorded with a marker
and no `notified` marker for a channel. A delivery round on an issue writes ONE note: first with
`sending` markers (the intent), then edited into the record (`notified` markers, or why a channel
failed). A process that dies between sending and recording leaves the intent behind, and the
message goes out again marked as a possible repeat; nothing else ever repeats.

Held messages (quiet hours, a staged match waiting for its cycle's summary, a failing channel)
are found again after a restart through a label, `vorhoelle/notify-owed` by default, that sits
on an issue while something is owed on it: one `labels=` query finds every such issue however
long ago it was held — a time window could silently drop a message held longer than the window,
and the label also tells a person looking at the issue that a message is pending.

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
from bot.markers import parse_markers, render_marker
from bot.notify.channel import Channel, ChannelError
from bot.notify.clock import Clock, QuietWindow, system_clock
from bot.notify.message import Item, Message, item_of
from bot.notify.owed import NOTIFIED, SENDING, STAGED, DeliveryKey, Owed, family, owed, recorded_in
from bot.notify.watch import NOTIFICATIONS, HealthWatch
from bot.render import render
from bot.settings import Settings
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
        self._lock = threading.Lock()          # one round at a time
        self._memory_lock = threading.Lock()   # guards the two sets below across threads
        # Deliveries this process recorded, for snapshots read before the record was written.
        self._recorded: OrderedDict[tuple[int, DeliveryKey], None] = OrderedDict()
        self._in_flight: set[tuple[int, DeliveryKey]] = set()
        self._unsaved: dict[tuple[int, int], str] = {}   # record edits GitLab refused, to retry
        self.watch = HealthWatch(self.report_health, report_after=self.notify.retry.report_after_rounds)

    # -- entry points -----------------------------------------------------------------------

    def on_staged(self, snapshots: Sequence[IssueSnapshot]) -> None:
        """A staging cycle ended: one summary per channel for its matches (unless held)."""
        self._run(snapshots, cycle=True, wait=30)

    def on_converged(self, snapshot: IssueSnapshot) -> None:
        """An issue was converged: tell what changed. Never blocks the converge for long."""
        self._run([snapshot], cycle=False, wait=0)

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
        acquired = self._lock.acquire(timeout=wait) if wait else self._lock.acquire(blocking=False)
        if not acquired:
            self._hold_elsewhere(snapshots)
            return
        try:
            self._round(snapshots, cycle=cycle)
            self.watch.ok(NOTIFICATIONS, "Notifications reach GitLab again.")
        except GitLabError as exc:
            self._gitlab_failed(exc)
        finally:
            self._lock.release()

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
                (ready if self._is_due(item, now, cycle) else held).append(item)
            if held:
                still_owed.add(snapshot.iid)
            if ready:
                due.append((snapshot, ready))
        if due:
            still_owed |= self._deliver(due)
        for snapshot in snapshots:
            self._set_owed_label(snapshot, snapshot.iid in still_owed)

    def _owed(self, snapshot: IssueSnapshot, now: datetime) -> list[Owed]:
        with self._memory_lock:
            known = {key for iid, key in (*self._recorded, *self._in_flight) if iid == snapshot.iid}
        return owed(
            recorded_in(snapshot),
            rules=self.notify.events,
            enabled=list(self.channels),
            now=now,
            max_age=timedelta(days=self.notify.max_age_days),
            delivered=known,
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
        """Intent notes, sends per channel in parallel, records. Returns issues still owing."""
        round_id = uuid.uuid4().hex[:12]
        notes: dict[int, int] = {}
        entries: list[tuple[IssueSnapshot, Owed]] = []
        still_owed: set[int] = set()
        for snapshot, items in due:
            try:
                notes[snapshot.iid] = self._write_intent(snapshot, items, round_id)
            except GitLabError as exc:
                log.warning("issue #%d: cannot record the intent to notify (%s); holding", snapshot.iid, exc)
                still_owed.add(snapshot.iid)
                continue
            entries += [(snapshot, item) for item in items]
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
        try:
            receipt = retrying(channel.send, message)
        except ChannelError as exc:
            log.warning("%s: delivery failed: %s", channel.name, exc)
            metrics.NOTIFICATIONS.labels(channel=channel.name, outcome="failed").inc()
            return Outcome(channel.name, False, str(exc))
        except Exception as exc:  # an adapter's bug must not take the other channels down
            log.exception("%s: delivery crashed", channel.name)
            metrics.NOTIFICATIONS.labels(channel=channel.name, outcome="failed").inc()
            return Outcome(channel.name, False, f"{type(exc).__name__}: {exc}")
        log.info("%s: delivered %s (%d item(s)): %s", channel.name, message.kind, len(message.items), receipt)
        metrics.NOTIFICATIONS.labels(channel=channel.name, outcome="sent").inc()
        return Outcome(channel.name, True, str(receipt))

    # -- what GitLab records ----------------------------------------------------------------

    def _write_intent(self, snapshot: IssueSnapshot, items: list[Owed], round_id: str) -> int:
        markers = [self._marker(SENDING, o) for o in items]
        body = self._note_body(round_id, markers, sending=sorted({o.channel for o in items}))
        reusable = self._failed_round_note(snapshot)
        if reusable is not None:
            self._save(snapshot.iid, reusable, body)
            return reusable
        self.pacer.wait_turn()
        return int(self.gitlab.create_note(snapshot.iid, body, internal=True)["id"])

    def _write_record(
        self, snapshot: IssueSnapshot, note_id: int, outcomes: list[tuple[Owed, Outcome]], round_id: str
    ) -> None:
        markers, lines = [], {}
        for item, outcome in outcomes:
            if outcome.ok:
                markers.append(self._marker(NOTIFIED, item, receipt=outcome.detail[:100], possible_repeat=item.possible_repeat))
                self._remember(snapshot.iid, item.event.key(item.channel))
            lines.setdefault(item.channel, self._line(item.channel, outcome))
        failed = sorted(name for name, line in lines.items() if not line["ok"])
        body = self._note_body(round_id, markers, lines=list(lines.values()), failed=failed)
        self._save(snapshot.iid, note_id, body)

    def _line(self, name: str, outcome: Outcome) -> dict[str, Any]:
        if outcome.ok:
            return {"channel": name, "ok": True, "outcome": "sent", "detail": outcome.detail}
        health = self.health[name]
        until = health.resting_until.strftime("%H:%M UTC") if health.resting_until else "the next round"
        detail = f"{outcome.detail}; failed {health.failed_rounds} round(s) in a row, next try after {until}"
        return {"channel": name, "ok": False, "outcome": "failed", "detail": detail}

    def _note_body(
        self, round_id: str, markers: list[str], *, sending: Sequence[str] = (),
        lines: Sequence[dict[str, Any]] = (), failed: Sequence[str] = (),
    ) -> str:
        """An intent (`sending`: the channels about to be tried) or a record (`lines`)."""
        delivered = None if sending else len(markers)
        summary = render_marker(ROUND, f"round:{round_id}", failed=list(failed), delivered=delivered)
        return render(
            "notify/record.md.j2", sending=list(sending), lines=list(lines),
            markers=Markup("\n".join([*markers, summary])),
        )

    def _marker(self, kind: str, item: Owed, **data: Any) -> str:
        return render_marker(kind, item.event.source, event=item.event.name, channel=item.channel, **data)

    def _failed_round_note(self, snapshot: IssueSnapshot) -> int | None:
        """The latest record note of a round that delivered nothing: edited, not repeated."""
        for note in reversed(snapshot.notes):
            if note.author_id != snapshot.bot_user.id:
                continue
            rounds = [m for m in parse_markers(note.body) if m.kind == ROUND]
            if rounds:
                return note.id if rounds[0].data.get("delivered") == 0 else None
        return None

    def _save(self, iid: int, note_id: int, body: str) -> None:
        try:
            self.gitlab.edit_note(iid, note_id, body)
            self._unsaved.pop((iid, note_id), None)
        except GitLabError as exc:
            log.warning("issue #%d: cannot save the delivery record (%s); will retry", iid, exc)
            self._unsaved[(iid, note_id)] = body

    def _retry_unsaved(self) -> None:
        for (iid, note_id), body in list(self._unsaved.items()):
            self._save(iid, note_id, body)

    def _remember(self, iid: int, key: DeliveryKey) -> None:
        with self._memory_lock:
            self._recorded[(iid, key)] = None
            while len(self._recorded) > 10_000:
                self._recorded.popitem(last=False)

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

    def _hold_elsewhere(self, snapshots: Iterable[IssueSnapshot]) -> None:
        """A round is running: what it does not cover is left, labelled, to the next flush."""
        now = self.clock()
        for snapshot in snapshots:
            if self._owed(snapshot, now):
                self._set_owed_label(snapshot, True)

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
