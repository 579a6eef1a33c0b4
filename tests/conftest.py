"""Shared fixtures: one sandbox GitLab per test session, a fresh world per test that wants one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox import RunningSandbox, start_in_thread
from tests.support.world import World, new_world


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    running = start_in_thread()
    yield running
    running.stop()


@pytest.fixture
def world(sandbox: RunningSandbox) -> World:
    return new_world(sandbox)
