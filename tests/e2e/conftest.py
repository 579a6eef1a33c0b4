"""The whole loop: sandbox GitLab + the bot's app (as `vorhoelle serve` runs it) + its webhook
installed in the project + python-gitlab acting as the reviewers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.markers import parse_markers
from tests.support.botserver import RunningBot, install_hook_for, running_bot, served_bot_settings, settle
from tests.support.waiting import wait_until
from tests.support.world import World

STATES = {"job-match/pending", "job-match/approved", "job-match/rejected", "job-match/sent"}


@dataclass
class Scene:
    sandbox: Any
    world: World
    bot: RunningBot | Any = None  # or a serve process, or none for CLI-only tests
    hook_id: int | None = None

    def stage(self, title: str = "Backend Engineer at Example GmbH") -> int:
        """An issue as staging makes it: by the bot, with the marker and the pending label."""
        issue = self.world.project("bot").issues.create({"title": title, "labels": "job-match,job-match/pending"})
        return issue.iid

    def issue(self, iid: int, role: str = "reviewer") -> Any:
        return self.world.project(role).issues.get(iid)

    def state_labels(self, iid: int) -> set[str]:
        return set(self.issue(iid).labels) & STATES

    def history(self, iid: int) -> list[str]:
        """Sources of the bot's transition notes on the issue, one per note."""
        bot_id = self.world.users["bot"]["id"]
        notes = self.issue(iid).notes.list(get_all=True)
        return [
            marker.source
            for note in notes if note.author["id"] == bot_id
            for marker in parse_markers(note.body) if marker.kind == "transition"
        ]

    def settle(self) -> None:
        settle(self.sandbox, self.bot)

    def wait_for_state(self, iid: int, label: str) -> None:
        wait_until(lambda: self.state_labels(iid) == {label}, message=f"#{iid} to carry only {label}")


@pytest.fixture
def scene(sandbox: Any, world: World) -> Iterator[Scene]:
    with running_bot(served_bot_settings(world)) as bot:
        yield Scene(sandbox, world, bot, install_hook_for(bot, world))
