"""A world, settings pointing at it, and the bot's app under uvicorn with an API client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.config.settings import Settings, load_settings
from tests.support.botserver import RunningBot, running_bot
from tests.support.world import World

API_TOKEN = "test-api-token-0123456789"
# No channel at all means console; without an outbox it only prints (nothing lands in the tree).
QUIET_NOTIFY = {"channels": {"console": {"enabled": False, "outbox": None}, "gitlab_todo": {"enabled": False}}}


def issues_in(world: World) -> list[Any]:
    """Every issue of the world's project except the bot's own status issue (bot/status_issue.py),
    which a served bot opens at its first catch-up pass."""
    return world.project("maintainer").issues.list(get_all=True, query_parameters={"not[labels]": "vorhoelle/status"})


def settings_for(world: World, **overrides: Any) -> Settings:
    """Settings for the bot user of `world`, reviewer assigned, notifications off."""
    staging = {"reviewer": world.users["reviewer"]["username"], **overrides.pop("staging", {})}
    return load_settings(
        gitlab_url=world.url,
        gitlab_token=world.users["bot"]["token"],
        project=world.path,
        api_token=API_TOKEN,
        staging=staging,
        notify=QUIET_NOTIFY,
        **overrides,
    )


def api_client(bot: RunningBot, token: str | None = API_TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=f"{bot.url}/api/v1", headers=headers, timeout=60)


@pytest.fixture
def settings(world: World) -> Settings:
    return settings_for(world)


@pytest.fixture
def bot(settings: Settings) -> Iterator[RunningBot]:
    with running_bot(settings) as running:
        yield running


@pytest.fixture
def api(bot: RunningBot) -> Iterator[httpx.Client]:
    with api_client(bot) as client:
        yield client


def match(title: str = "Senior Python Developer", score: int = 91, **fields: Any) -> dict[str, Any]:
    """A valid match, made-up but realistic; `fields` override or add."""
    return {
        "title": title,
        "score": score,
        "provider": "Nordlicht Payments GmbH",
        "location": "Hamburg",
        "url": f"https://jobs.example.com/postings/{uuid.uuid4().hex[:12]}",
        "rate": {"amount": 95, "currency": "EUR", "unit": "h"},
        "contact": {"name": "Mira Sommer", "email": "mira.sommer@example.com"},
        "requirements": [
            {"requirement": "Python", "weight": 3, "met": "met", "comment": "8 years"},
            {"requirement": "Kafka", "weight": 1, "met": "missing"},
        ],
        "notes": "Team of six.",
        "draft": "Dear Ms Sommer,\n\nI would like to apply.\n\nAlex",
        **fields,
    }
