"""The bot served on a sandbox world with Slack's app (a local fake) and Twilio replies switched on,
and the reviewers mapped: the reviewer (developer) and the guest on Slack and WhatsApp."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.markers import parse_markers
from bot.staging.match import Match
from bot.staging.stage import stage_cycle
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.twilio import AUTH_TOKEN
from tests.support.botserver import RunningBot, install_hook_for, running_bot, served_bot_settings, settle
from tests.support.waiting import wait_until
from tests.support.world import World

REVIEWER_SLACK, GUEST_SLACK, STRANGER_SLACK = "U0REVIEW1", "U0GUEST01", "U0STRANGE"
REVIEWER_PHONE, GUEST_PHONE, STRANGER_PHONE = "+4915100000001", "+4915100000002", "+4915100000009"
PUBLIC_URL = "https://bot.example.org"


@dataclass
class Desk:
    """The bot, its world, and the fake Slack it posts to and hears from."""

    sandbox: Any
    world: World
    bot: RunningBot
    slack: FakeSlack

    def stage(self, title: str = "Platform Engineer") -> tuple[int, dict[str, Any]]:
        """A staged match and the Slack message announcing it (with its buttons)."""
        before = set(self.slack.posted)
        (staged,) = stage_cycle(self.bot.runtime, [Match(title=title, score=91, url=f"https://jobs.example.com/{title}")])
        wait_until(lambda: set(self.slack.posted) - before, message="the match on Slack")
        (ts,) = set(self.slack.posted) - before
        return staged.iid, self.slack.posted[ts]

    def labels(self, iid: int) -> set[str]:
        return {label for label in self.world.project("reviewer").issues.get(iid).labels if label.startswith("job-match/")}

    def bot_notes(self, iid: int) -> list[Any]:
        bot_id = self.world.users["bot"]["id"]
        notes = self.world.project("reviewer").issues.get(iid).notes.list(get_all=True, sort="asc")
        return [n for n in notes if n.author["id"] == bot_id and not n.system]

    def history(self, iid: int, kind: str = "transition") -> list[dict[str, Any]]:
        return [{"body": n.body, **m.data, "source": m.source} for n in self.bot_notes(iid)
                for m in parse_markers(n.body) if m.kind == kind]

    def decisions(self, iid: int) -> list[dict[str, Any]]:
        """Every step, refusal and help the bot recorded on the issue."""
        return [m for kind in ("transition", "refusal", "help") for m in self.history(iid, kind)]

    def settle(self) -> None:
        settle(self.sandbox, self.bot)


def desk_settings(world: World, slack: FakeSlack, tmp_path: Any, **review: Any) -> Any:
    users = world.users
    return served_bot_settings(
        world,
        public_url=PUBLIC_URL,
        notify={"batch": False,
                "channels": {"console": {"outbox": str(tmp_path / "outbox.jsonl")}, "gitlab_todo": {"enabled": False},
                             "slack": {"enabled": True, "bot_token": BOT_TOKEN, "channel": "#jobs",
                                       "api_url": slack.api_url, "signing_secret": SIGNING_SECRET,
                                       "timeout_seconds": 5},
                             "whatsapp": {"inbound": True, "auth_token": AUTH_TOKEN}},
                "retry": {"attempts": 1}},
        review={"slack_users": {REVIEWER_SLACK: users["reviewer"]["username"], GUEST_SLACK: users["guest"]["username"]},
                "whatsapp_users": {REVIEWER_PHONE: users["reviewer"]["username"], GUEST_PHONE: users["guest"]["username"]},
                **review},
    )


@pytest.fixture
def desk(sandbox: Any, world: World, tmp_path: Any) -> Iterator[Desk]:
    with FakeSlack() as slack, running_bot(desk_settings(world, slack, tmp_path)) as bot:
        install_hook_for(bot, world)
        yield Desk(sandbox, world, bot, slack)
