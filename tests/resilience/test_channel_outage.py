"""Slack answering 500 for a while: nothing is lost, the failure is written on the issue, the
messages go out once Slack is back, and the console channel never waits for Slack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.notify import build_dispatcher
from bot.runtime import build_runtime
from tests.e2e.conftest import Scene
from tests.fakes.http import Answer, Received
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import FakeClock
from tests.resilience.conftest import comment, deliver_held, emoji, label, notified, notify_config, outbox_items, slack_items
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings

WAYS = [(label("approved"), "approved"), (comment("/reject wrong city"), "rejected"), (emoji("thumbsup"), "approved")]


class FlakySlack(FakeSlack):
    """Slack that answers 500 `rollup_error` while `down`."""

    down = False

    def answer(self, received: Received) -> Answer:
        return Answer(500, "rollup_error") if self.down else super().answer(received)


@pytest.fixture
def slack() -> Iterator[FlakySlack]:
    with FlakySlack() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_scene(sandbox: Any, world: Any, slack: FlakySlack, outbox: Path, clock: FakeClock) -> Iterator[Scene]:
    """The noisy scene, with a notifier on a clock the test moves (a channel rests for minutes)."""
    settings = served_bot_settings(world, notify=notify_config(slack, outbox))
    runtime = build_runtime(settings)
    runtime.notifier = build_dispatcher(settings, runtime.gitlab, clock=clock, sleep=lambda seconds: None)
    with running_bot(settings, runtime=runtime) as bot:
        yield Scene(sandbox, world, bot, install_hook_for(bot, world))


def history_notes(scene: Scene, iid: int) -> list[str]:
    """The bot's notes recording a step: each also holds the outcome of its notifications."""
    bot_id = scene.world.users["bot"]["id"]
    return [n.body for n in scene.issue(iid).notes.list(get_all=True)
            if n.author["id"] == bot_id and '"kind":"transition"' in n.body]


def test_a_slack_outage_loses_nothing_and_holds_nobody_else_up(clocked_scene: Scene, slack: FlakySlack, outbox, clock):
    scene = clocked_scene
    iids = [scene.stage(f"Role {n} at Example Stiftung") for n in range(len(WAYS))]
    scene.settle()
    urls = {iid: scene.issue(iid).web_url for iid in iids}

    slack.down = True
    reviewer = scene.world.project("reviewer")
    for iid, (act, _) in zip(iids, WAYS):
        act(reviewer, iid)
    scene.settle()
    tried = len(slack.requests)
    scene.bot.runtime.notifier.flush_due()   # Slack rests after its failed round: not even tried

    assert tried > 0 and slack.delivered() == []
    assert [outbox_items(outbox, urls[iid]) for iid in iids] == [1] * len(iids)   # console went on
    assert any("Not told yet: Slack (tried again later)." in history_notes(scene, iid)[0] for iid in iids)
    assert len(slack.requests) == tried

    slack.down = False
    clock.advance(hours=2)                  # past the longest rest
    deliver_held(scene)

    for iid, (_, event) in zip(iids, WAYS):
        assert (slack_items(slack, urls[iid]), outbox_items(outbox, urls[iid])) == (1, 1), iid
        assert sorted(m["channel"] for m in notified(scene, iid) if m["event"] == event) == ["console", "slack"]
        assert len(scene.history(iid)) == 1
