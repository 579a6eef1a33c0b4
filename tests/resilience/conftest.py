"""The resilience suite's stage: the e2e scene (sandbox + served bot + webhook) with notifications
going to a local Slack and a console outbox, and ways to read what each channel received.

Counts stay small so that the whole suite runs in a few minutes on two cores; the benches in
bench/ run the same paths at scale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.markers import parse_markers
from bot.sandbox.control import SandboxControl
from tests.e2e.conftest import Scene, scene  # noqa: F401 - the plain scene, for tests without channels
from tests.fakes.slack import FakeSlack
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings


Act = Callable[[Any, int], None]
"""A reviewer's act on issue `iid` of a python-gitlab project (lazy): exactly one API call."""


def label(state: str) -> Act:
    def act(project: Any, iid: int) -> None:
        project.issues.update(iid, {"add_labels": f"job-match/{state}"})
    return act


def comment(text: str) -> Act:
    def act(project: Any, iid: int) -> None:
        project.issues.get(iid, lazy=True).notes.create({"body": text})
    return act


def emoji(name: str) -> Act:
    def act(project: Any, iid: int) -> None:
        project.issues.get(iid, lazy=True).awardemojis.create({"name": name})
    return act


def notify_config(slack: FakeSlack, outbox: Path, **over: Any) -> dict[str, Any]:
    """Slack (incoming webhook) and console, each message retried once at once, unpaced."""
    return {
        "channels": {
            "console": {"enabled": True, "outbox": str(outbox)},
            "slack": {"enabled": True, "webhook_url": slack.webhook_url, "timeout_seconds": 5},
            "gitlab_todo": {"enabled": False},
        },
        "retry": {"attempts": 2, "max_wait_seconds": 0},
        "notes_per_minute": 10_000,
        **over,
    }


def slack_items(slack: FakeSlack, web_url: str) -> int:
    """How many match blocks Slack accepted that link to the issue at `web_url`."""
    link = f"<{web_url}|"
    return sum(
        block["text"]["text"].startswith(link) or f"\n{link}" in block["text"]["text"]
        for message in slack.messages() for block in message.get("blocks", [])
        if block.get("type") == "section"
    )


def outbox_items(outbox: Path, web_url: str) -> int:
    """How many items the console channel printed for the issue at `web_url`."""
    if not outbox.exists():
        return 0
    entries = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    return sum(item.get("web_url") == web_url for entry in entries for item in entry.get("items", []))


def notified(scene: Scene, iid: int) -> list[dict[str, Any]]:  # noqa: F811
    """The data of every `notified` marker the bot wrote on the issue."""
    bot_id = scene.world.users["bot"]["id"]
    return [
        marker.data
        for note in scene.issue(iid).notes.list(get_all=True) if note.author["id"] == bot_id
        for marker in parse_markers(note.body) if marker.kind == "notified"
    ]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox.jsonl"


@pytest.fixture
def control(sandbox: Any) -> Iterator[SandboxControl]:
    """The sandbox's control surface; faults and limits are switched off again afterwards."""
    with SandboxControl(sandbox.url, sandbox.root_token) as client:
        yield client
        client.faults()
        client.rate_limits(preset="off")


@pytest.fixture
def noisy_scene(sandbox: Any, world: Any, slack: FakeSlack, outbox: Path) -> Iterator[Scene]:
    """The e2e scene whose bot also tells Slack and the console about every transition, and
    tries a failed converge again after a second rather than thirty."""
    settings = served_bot_settings(world, notify=notify_config(slack, outbox),
                                   server={"converge_retry_seconds": 1})
    with running_bot(settings) as bot:
        yield Scene(sandbox, world, bot, install_hook_for(bot, world))


def deliver_held(scene: Scene) -> None:  # noqa: F811
    """Run the notifier's periodic flush now (the app runs it every 30 s), after the bot settled,
    until no issue carries the label of a held message."""
    scene.settle()
    notifier = scene.bot.runtime.notifier
    owed = scene.bot.runtime.settings.notify.owed_label
    project = scene.world.project("maintainer")
    for _ in range(5):
        if not project.issues.list(labels=[owed], get_all=True):
            return
        notifier.flush_due()
        scene.settle()
    raise AssertionError(f"issues still carry {owed} after five flushes")
