"""The project's settings file needs a bot that may push the protected default branch
(maintainer), served with an API token and its webhook installed."""

from __future__ import annotations

import pytest

from tests.config.project import API_TOKEN
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings
from tests.support.world import new_world


@pytest.fixture
def world(sandbox):
    return new_world(sandbox, bot_access=40)  # main is protected: writing it back needs maintainer


@pytest.fixture
def bot(world):
    with running_bot(served_bot_settings(world, api_token=API_TOKEN)) as running:
        install_hook_for(running, world)
        yield running
