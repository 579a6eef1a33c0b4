"""The test support itself: a world has its project, people, levels and working clients."""

from __future__ import annotations

import gitlab
import pytest

from tests.support.waiting import wait_until
from tests.support.world import DEFAULT_ACCESS, new_world


def test_world_has_members_with_their_levels(sandbox, world):
    project = world.admin.projects.get(world.path)
    assert project.id == world.project_id
    assert project.visibility == "private"
    for role, level in DEFAULT_ACCESS.items():
        world.clients[role].auth()
        assert world.clients[role].user.username == world.users[role]["username"]
        assert project.members_all.get(world.users[role]["id"]).access_level == level


def test_bot_access_is_configurable(sandbox):
    world = new_world(sandbox, bot_access=40)
    member = world.admin.projects.get(world.project_id).members_all.get(world.users["bot"]["id"])
    assert member.access_level == 40


def test_worlds_do_not_see_each_other(sandbox, world):
    other = new_world(sandbox)
    with pytest.raises(gitlab.GitlabGetError) as caught:
        world.clients["reviewer"].projects.get(other.project_id)
    assert caught.value.response_code == 404


def test_wait_until_returns_the_value_and_times_out_with_a_message():
    values = iter([0, None, "ready"])
    assert wait_until(lambda: next(values), timeout=5, interval=0) == "ready"
    with pytest.raises(AssertionError, match="never"):
        wait_until(lambda: False, timeout=0.05, interval=0.01, message="never")
