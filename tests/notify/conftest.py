"""A bot with a notifier on a sandbox world, a fake clock, and the fake services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.config.files import deep_merge
from bot.markers import parse_markers
from bot.staging.match import Match
from bot.notify import build_dispatcher
from bot.sandbox.control import SandboxControl
from bot.snapshot import read_snapshot
from bot.staging.stage import stage_cycle
from tests.fakes.slack import FakeSlack
from tests.support.bot import bot_runtime


class FakeClock:
    """Wall-clock time that only moves when a test says so (starts at the real now)."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Bot:
    """A runtime whose notifier can be rebuilt (a restart) over the same GitLab."""

    world: Any
    slack: FakeSlack
    outbox: Path
    clock: FakeClock
    notify: dict[str, Any]
    runtime: Any = None
    staged: list[int] = field(default_factory=list)

    def start(self) -> "Bot":
        """(Re)build the runtime and its dispatcher: nothing survives but what GitLab holds."""
        defaults = {
            "channels": {
                "console": {"enabled": True, "outbox": str(self.outbox)},
                "slack": {"enabled": True, "webhook_url": self.slack.webhook_url, "timeout_seconds": 5},
                "gitlab_todo": {"enabled": False},
            },
            "retry": {"attempts": 2, "max_wait_seconds": 0},
        }
        self.runtime = bot_runtime(self.world, notify=deep_merge(defaults, self.notify))
        self.runtime.notifier = build_dispatcher(
            self.runtime.settings, self.runtime.gitlab, clock=self.clock, sleep=lambda seconds: None
        )
        return self

    @property
    def notifier(self) -> Any:
        return self.runtime.notifier

    def stage(self, *scores: int, title: str = "Cloud Architect") -> list[int]:
        matches = [
            Match(title=f"{title} {n}", score=score, provider="Nordlicht Consulting GmbH", location="Berlin",
                  url=f"https://jobs.example.com/{self.world.project_id}/{len(self.staged) + n}")
            for n, score in enumerate(scores, start=1)
        ]
        iids = [r.iid for r in stage_cycle(self.runtime, matches) if r.outcome == "created"]
        self.staged += iids
        return iids

    def snapshot(self, iid: int) -> Any:
        return read_snapshot(self.runtime.gitlab, iid)

    def outbox_entries(self) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text(encoding="utf-8").splitlines()]

    def slack_items(self) -> list[str]:
        """Every match line Slack accepted, over all messages (one block per match)."""
        return [
            b["text"]["text"] for m in self.slack.messages() for b in m["blocks"][1:]
            if b["type"] == "section" and not b["text"]["text"].endswith("|Review pending matches>")
        ]

    def delivery_notes(self, iid: int) -> list[Any]:
        snap = self.snapshot(iid)
        return [n for n in snap.notes if n.author_id == snap.bot_user.id
                and any(m.kind == "delivery" for m in parse_markers(n.body))]

    def notified(self, iid: int) -> list[tuple[str, str]]:
        """(event, channel) for every `notified` marker on the issue."""
        snap = self.snapshot(iid)
        return sorted((m.data["event"], m.data["channel"]) for m in snap.bot_markers if m.kind == "notified")

    def has_owed_label(self, iid: int) -> bool:
        return self.runtime.settings.notify.owed_label in self.snapshot(iid).labels


@pytest.fixture
def control(sandbox) -> Iterator[SandboxControl]:
    """The sandbox's control surface (faults, call counters); faults off again afterwards."""
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        yield control
        control.faults()


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def make_bot(world, slack, tmp_path):
    def make(clock: FakeClock | None = None, **notify: Any) -> Bot:
        return Bot(world, slack, tmp_path / "outbox.jsonl", clock or FakeClock(), notify).start()

    return make
