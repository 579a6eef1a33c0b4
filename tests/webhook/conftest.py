"""A bot (the `vorhoelle serve` app under uvicorn) pointed at a fresh sandbox world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.botserver import RunningBot, running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import World

LIMIT = 64 * 1024


@pytest.fixture
def bot(world: World) -> Iterator[RunningBot]:
    with running_bot(served_bot_settings(world, server={"max_body_bytes": LIMIT})) as running:
        # the start-up catch-up pass is over before a test counts what the queue was given
        wait_until(lambda: running.app.state.catch_up.passes >= 1, message="the start-up catch-up pass")
        yield running
