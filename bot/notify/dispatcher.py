"""The dispatcher: who hears what, when, on which channel — and GitLab remembers it.

What is owed comes from GitLab alone (bot/notify/owed.py): events the bot recorded with a marker
and no `notified` marker for a channel, minus what the reviewer did themselves and to-dos without
work (bot/notify/audience.py). Before a message goes out its intent is on record (a `sending`
marker), after it the delivery is (`notified`), both in the message's home note
(bot/notify/records.py): a process that dies between sending and recording leaves the intent
behind, and the message goes out again marked as a possible repeat; nothing else ever repeats.
When the converge records a transition or a refusal, it asks `intent_for` which channels will
hear of it right away and writes their intents into that history note itself.

Held messages (quiet hours, a staged match waiting for its cycle's summary, a failing channel)
are found again after a restart through a label, `vorhoelle/notify-owed` by default, that sits
on an issue while something is owed on it: one `labels=` query finds every such issue however
long ago it was held, and the label tells a person looking at the issue that a message is
pending. Rounds take turns (bot/notify/turns.py).

Settings are read when used, from the running bot's current settings: a reload of the project's
`.vorhoelle.yml` (quiet hours, batching, events, channels) applies to the next round. Channels
are isolated: each is sent to in its own thread (bot/notify/delivery.py), and one that keeps
failing rests and is reported (bot/notify/channel_health.py) while the others carry on.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Sequence

from bot.config.settings import Settings
from bot.gitlab_access import GitLabError
from bot.markers import Marker, parse_markers
from bot.notify import claims
from bot.notify.audience import audience
from bot.notify.channel import Channel
from bot.notify.channel_health import HealthBook
from bot.notify.clock import Clock, QuietWindow, system_clock
from bot.notify.delivery import SendResult, send
from bot.notify.memory import DeliveryMemory
from bot.notify.message import Item, Message, item_of
from bot.notify.owed import SENDING, STAGED, Owed, Recorded, family, marker_time, owed, recorded_in
from bot.notify.pacing import NotePacer
from bot.notify.records import Home, RecordWriter, delivery_marker, marker_text
from bot.notify.turns import Turns
from bot.notify.watch import NOTIFICATIONS, HealthWatch
from bot.snapshot import IssueSnapshot, read_snapshot

log = logging.getLogger(__name__)

Channels = tuple[dict[str, Channel], dict[str, str]]   # built targets, and why others could not be


@dataclass
class FlushReport:
    """What a round did, for `vorhoelle notify flush`: one line per (issue, event, channel)."""

    delivered: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: str | None = None   # why the whole flush did nothing (quiet hours)
    error: str | None = None     # GitLab failed: nothing could be read


class Dispatcher:
    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        gitlab: Any,
        channels: Mapping[str, Channel],
        *,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
        problems: Mapping[str, str] | None = None,
        rebuild: Callable[[Settings], Channels] | None = None,
    ):
        self._settings = settings if callable(settings) else (lambda: settings)
        self.gitlab = gitlab
        self.channels = dict(channels)
        self.problems = dict(problems or {})   # enabled channels that could not be built
        self._rebuild = rebuild
        self._built_for = self._channel_settings(self.settings)
        self.clock = clock
        self.sleep = sleep
        self.health = HealthBook(lambda text, trouble: self.report_health(text, trouble=trouble))
        self.memory = DeliveryMemory()
        self.records = RecordWriter(gitlab, lambda: self.settings.project,
                                    NotePacer(lambda: self.notify.notes_per_minute, sleep))
        self.turns = Turns(self._guarded_round)
        self._report: FlushReport | None = None
        self.watch = HealthWatch(self.report_health, report_after=lambda: self.notify.retry.report_after_rounds)

    @property
    def settings(self) -> Settings:
        return self._settings()

    @property
    def notify(self) -> Any:
        return self.settings.notify

    # -- entry points -----------------------------------------------------------------------

    def on_staged(self, snapshots: Sequence[IssueSnapshot]) -> None:
        """A staging cycle ended: one summary per channel for its matches (unless held)."""
        self._run(snapshots, cycle=True, wait=30)

    def on_converged(self, snapshot: IssueSnapshot) -> None:
        """An issue was converged: tell what changed. Never blocks the converge for long."""
        self._run([snapshot], cycle=False, wait=0)

    def intent_for(self, snapshot: IssueSnapshot, marker: Marker) -> list[str]:
        """The `sending` markers for the history note about to record `marker` on `snapshot`'s
        issue: the channels its event goes to right away. A target naming its recipient
        (`whatsapp:+49…`) is left to the round: a history note may be public."""
        self._refresh_channels()
        now = self.clock()
        recorded = [*recorded_in(snapshot), Recorded(marker, marker_time(marker) or now)]
        items = [item for item in self._owed(snapshot, now, recorded)
                 if item.event.source == marker.source and family(item.channel) == item.channel
                 and not item.intended and self._is_due(item, now, cycle=False)]
        if not items:
            return []
        round_id = new_round_id()
        self.memory.intended(snapshot.iid, items, round_id)
        return [marker_text(delivery_marker(SENDING, item, round=round_id)) for item in items]

    def flush_due(self) -> FlushReport:
        """Deliver what was held and is due now (every 30 s in `serve`); say what happened."""
        quiet = self._quiet()
        if quiet is not None and quiet.is_quiet(self.clock()):
            return FlushReport(skipped=f"quiet hours ({quiet.describe()}): everything held waits")
        self.records.retry_unsaved(new_round_id())
        try:
            iids = [issue["iid"] for issue in self.gitlab.iter_issues(labels=[self.notify.owed_label])]
            snapshots = [read_snapshot(self.gitlab, iid) for iid in iids]
        except GitLabError as exc:
            self._gitlab_failed(exc)
            return FlushReport(error=f"GitLab failed: {exc}")
        if snapshots:
            log.info("flushing held notifications of %d issue(s)", len(snapshots))
        report = self._report = FlushReport()
        try:
            self._run(snapshots, cycle=False, wait=30)
        finally:
            self._report = None
        return report

    def test(self, only: str | None = None) -> dict[str, SendResult]:
        """Send a test message on each enabled channel (or `only` that one); say what happened."""
        self._refresh_channels()
        names = [name for name in [*self.channels, *self.problems] if only in (None, family(name))] or [only or ""]
        message = Message(kind="test", text="Test message: notifications from Vorhölle reach you here.")
        results = {}
        for name in names:
            if name in self.channels:
                results[name] = self._send(self.channels[name], message)
            else:
                why = self.problems.get(name, "not enabled")
                results[name] = SendResult(name, False, f"channel {name!r} cannot send: {why}")
        return results

    def report_health(self, text: str, *, trouble: bool = True) -> None:
        """Tell the admin channel about the bot's own trouble (a disabled hook, failing calls), or
        (`trouble=False`) that it is over."""
        log.log(logging.ERROR if trouble else logging.INFO, "health: %s", text)
        for name, channel in self.channels.items():
            if family(name) != self.notify.admin_channel:
                continue
            if self.health.resting(name, self.clock()):
                log.warning("admin channel %s is itself failing; the report stays in the log", name)
                continue
            self._send(channel, Message(kind="health", text=text))

    # -- settings that reach the running bot ------------------------------------------------

    @staticmethod
    def _channel_settings(settings: Settings) -> tuple[Any, ...]:
        return (settings.notify.channels, settings.staging.reviewer)

    def _refresh_channels(self) -> None:
        """Rebuild the channels when a reload changed their settings (a new dict: a round under
        way keeps sending to the channels it began with)."""
        current = self._channel_settings(self.settings)
        if self._rebuild is None or current == self._built_for:
            return
        self.channels, self.problems = self._rebuild(self.settings)
        self._built_for = current
        log.info("notification channels after a settings reload: %s", ", ".join(self.channels) or "none")

    def _quiet(self) -> QuietWindow | None:
        return QuietWindow.from_settings(self.notify.quiet_hours)

    # -- a round ----------------------------------------------------------------------------

    def _run(self, snapshots: Sequence[IssueSnapshot], *, cycle: bool, wait: float) -> None:
        self.turns.run(snapshots, cycle=cycle, wait=wait)

    def _guarded_round(self, snapshots: Sequence[IssueSnapshot], cycle: bool) -> None:
        self._refresh_channels()
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
        channels = self.channels   # the round's own: a reload may replace them meanwhile
        due: list[tuple[IssueSnapshot, list[Owed]]] = []
        still_owed: set[int] = set()
        for snapshot in snapshots:
            ready: list[Owed] = []
            for item in self._owed(snapshot, now, channels=channels):
                why = self._why_held(item, now, cycle) or self._sending_elsewhere(snapshot, item, now)
                if why is None:
                    ready.append(item)
                else:
                    still_owed.add(snapshot.iid)
                    self._said("held", snapshot, [item], why)
            if ready:
                due.append((snapshot, ready))
        if due:
            still_owed |= self._deliver(due, channels)
        for snapshot in snapshots:
            self.records.set_owed_label(snapshot, self.notify.owed_label, snapshot.iid in still_owed)

    def _owed(self, snapshot: IssueSnapshot, now: datetime, recorded: list[Recorded] | None = None,
              channels: Mapping[str, Channel] | None = None) -> list[Owed]:
        known, intents = self.memory.known(snapshot.iid)
        items = owed(
            recorded_in(snapshot) if recorded is None else recorded,
            rules=self.notify.events,
            enabled=list(self.channels if channels is None else channels),
            now=now,
            max_age=timedelta(days=self.notify.max_age_days),
            delivered=known,
            intents=intents,
        )
        hears = audience(self.settings).hears
        return [item for item in items if hears(item)]

    def _is_due(self, item: Owed, now: datetime, cycle: bool) -> bool:
        return self._why_held(item, now, cycle) is None

    def _why_held(self, item: Owed, now: datetime, cycle: bool = False) -> str | None:
        quiet = self._quiet()
        if quiet is not None and quiet.is_quiet(now):
            return f"quiet hours ({quiet.describe()})"
        if self.health.resting(item.channel, now):
            return f"{item.channel} rests after failing until {self.health.of(item.channel).resting_until:%H:%M} UTC"
        if item.event.name == STAGED and self.notify.batch and not cycle and item.event.at is not None:
            # A fresh match waits for its cycle's summary (on_staged) before going out alone.
            if now - item.event.at < timedelta(seconds=self.notify.batch_seconds):
                return f"a new match waits {self.notify.batch_seconds:g} s for its staging cycle's summary"
        return None

    def _deliver(self, due: list[tuple[IssueSnapshot, list[Owed]]], channels: Mapping[str, Channel]) -> set[int]:
        """Intents where none is on record yet, sends per channel in parallel, records. Returns
        issues still owing."""
        round_id = new_round_id()
        homes: dict[int, dict[Any, Home]] = {}
        entries: list[tuple[IssueSnapshot, Owed]] = []
        still_owed: set[int] = set()
        for snapshot, items in due:
            fresh = [item for item in items if not item.intended or item.possible_repeat]   # each needs a claim
            try:
                homes[snapshot.iid] = self.records.write_intents(snapshot, fresh, round_id) if fresh else {}
                beaten = self._beaten(snapshot.iid, fresh, round_id)
            except GitLabError as exc:
                log.warning("issue #%d: cannot record the intent to notify (%s); holding", snapshot.iid, exc)
                still_owed.add(snapshot.iid)
                self._said("held", snapshot, items, f"GitLab refused the intent: {exc}")
                continue
            self.memory.intended(snapshot.iid, [item for item in fresh if item not in beaten], round_id)
            if beaten:
                still_owed.add(snapshot.iid)   # the winner's to record; the next flush looks again
                self._said("held", snapshot, beaten, "another replica claimed it first")
            entries += [(snapshot, item) for item in items if item not in beaten]
        flight = {(s.iid, o.event.key(o.channel)) for s, o in entries}
        self.memory.flying(flight)
        try:
            by_channel: dict[str, list[tuple[IssueSnapshot, Owed]]] = {}
            for snapshot, item in entries:
                by_channel.setdefault(item.channel, []).append((snapshot, item))
            with ThreadPoolExecutor(max_workers=max(1, len(by_channel)), thread_name_prefix="notify") as pool:
                futures = {name: pool.submit(self._send_channel, channels[name], group) for name, group in by_channel.items()}
                results = {name: future.result() for name, future in futures.items()}
        finally:
            self.memory.landed(flight)
        now = self.clock()
        for name, outcomes in results.items():
            self.health.after_round(name, [r.detail for _, _, r in outcomes if not r.ok], now, self.notify.retry)
        for snapshot, _ in due:
            if snapshot.iid not in homes:
                continue
            mine = [(item, result) for name in results for s, item, result in results[name] if s.iid == snapshot.iid]
            for item, result in mine:
                if result.ok:
                    self.memory.recorded(snapshot.iid, item.event.key(item.channel))
                    self._said("delivered", snapshot, [item], result.detail)
                else:
                    still_owed.add(snapshot.iid)
                    self._said("failed", snapshot, [item], result.detail)
            rounds = self.memory.resolve(snapshot.iid, {item.event.key(item.channel) for item, _ in mine})
            self.records.write_records(snapshot, mine, homes[snapshot.iid], rounds, round_id, self.health.failure_detail)
        return still_owed

    # -- more than one replica (bot/notify/claims.py) --------------------------------------

    def _sending_elsewhere(self, snapshot: IssueSnapshot, item: Owed, now: datetime) -> str | None:
        """An intent this process did not write, not resolved and recent: another replica sends."""
        if not item.possible_repeat:
            return None
        _, intents = self.memory.known(snapshot.iid)
        mine = {round_id for (_, round_id) in intents}
        lease = timedelta(seconds=self.notify.claim_lease_seconds)
        if claims.claimed_elsewhere(snapshot, item.event.key(item.channel), mine, now, lease):
            return "another replica is sending it"
        return None

    def _beaten(self, iid: int, fresh: list[Owed], round_id: str) -> list[Owed]:
        """The fresh claims another replica won (its claim is older, or it recorded the delivery)."""
        lease = timedelta(seconds=self.notify.claim_lease_seconds)
        keys = claims.lost(self.gitlab, iid, [item.event.key(item.channel) for item in fresh], round_id, self.clock(), lease)
        beaten = [item for item in fresh if item.event.key(item.channel) in keys]
        if beaten:
            log.info("issue #%d: another replica claimed %d message(s) first; it sends them", iid, len(beaten))
        return beaten

    def withdraw(self, iid: int, body: str) -> None:
        """The converge deleted a note it wrote (another replica's twin was older): the intents
        in it are no longer this process's to keep."""
        self.memory.withdraw(iid, parse_markers(body))

    def _send_channel(self, channel: Channel, group: list[tuple[IssueSnapshot, Owed]]) -> list[tuple[IssueSnapshot, Owed, SendResult]]:
        """One message for the whole group (batch) or one per event; each entry's outcome."""
        template = self.settings.staging.title_template
        items = [(snapshot, owed_item, item_of(snapshot, owed_item, template)) for snapshot, owed_item in group]
        batches = [items] if self.notify.batch else [[entry] for entry in items]
        results = []
        for batch in batches:
            result = self._send(channel, self._message([item for _, _, item in batch]))
            results += [(snapshot, owed_item, result) for snapshot, owed_item, _ in batch]
        return results

    def _message(self, items: list[Item]) -> Message:
        """The message for `items`, with a link to every match waiting when some are new."""
        if not any(item.event == STAGED for item in items):
            return Message(items=tuple(items))
        workflow = self.settings.workflow
        pending = workflow.states[workflow.initial_state].label
        review = f"{self.gitlab.project.web_url}/-/issues?label_name[]={pending}"
        return Message(items=tuple(items), review_url=review)

    def _send(self, channel: Channel, message: Message) -> SendResult:
        return send(channel, message, self.notify.retry, self.sleep)

    def _said(self, what: str, snapshot: IssueSnapshot, items: Sequence[Owed], why: str) -> None:
        """Note for `vorhoelle notify flush` what became of `items` (only while it listens)."""
        report = self._report
        if report is None:
            return
        lines = getattr(report, what)
        lines += [f"#{snapshot.iid} {item.event.name} → {item.channel}: {why}" for item in items]


def new_round_id() -> str:
    return uuid.uuid4().hex[:12]

