"""A bot (the `vorhoelle serve` app under uvicorn) pointed at a fresh sandbox world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import Settings, load_settings
from tests.support.botserver import RunningBot, running_bot
from tests.support.world import World

SECRET = "made-up-webhook-secret"


def settings_for(world: World, **overrides) -> Settings:
    return load_settings(
        gitlab_url=world.url,
        gitlab_token=world.users["bot"]["token"],
        project=world.path,
        webhook_secret=SECRET,
        **overrides,
    )


@pytest.fixture
def bot(world: World) -> Iterator[RunningBot]:
    with running_bot(settings_for(world, server={"max_body_bytes": 64 * 1024})) as running:
        yield running
