"""Reviewers act in GitLab the ways they can; the bot, told by webhooks, records each once."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Scene


def by_label(scene: Scene, iid: int) -> None:
    scene.world.project("reviewer").issues.update(iid, {"add_labels": "job-match/approved"})


def by_comment(text: str):
    def act(scene: Scene, iid: int) -> None:
        body = text.format(bot=scene.world.users["bot"]["username"])
        scene.issue(iid).notes.create({"body": body})
    return act


def by_emoji(name: str):
    def act(scene: Scene, iid: int) -> None:
        scene.issue(iid).awardemojis.create({"name": name})
    return act


WAYS = {
    "label": (by_label, "job-match/approved"),
    "/reject with a reason": (by_comment("/reject too junior"), "job-match/rejected"),
    "/accept": (by_comment("/accept"), "job-match/approved"),
    "@bot approve": (by_comment("Looks good.\n@{bot} approve"), "job-match/approved"),
    "thumbsup": (by_emoji("thumbsup"), "job-match/approved"),
    "thumbsdown": (by_emoji("thumbsdown"), "job-match/rejected"),
}


@pytest.mark.parametrize("way", WAYS)
def test_each_way_of_acting_ends_with_the_right_label_and_one_history_note(scene: Scene, way: str):
    act, expected = WAYS[way]
    iid = scene.stage()
    scene.settle()
    act(scene, iid)
    scene.wait_for_state(iid, expected)
    scene.settle()
    assert scene.state_labels(iid) == {expected}
    assert len(scene.history(iid)) == 1
    assert "job-match" in scene.issue(iid).labels


def test_the_bot_ignores_its_own_events_and_never_loops(scene: Scene):
    iid = scene.stage()
    scene.settle()
    own = scene.bot.receiver.ignored["the bot's own action"]
    assert own >= 1                     # the staging itself reached the bot, and was ignored
    assert scene.bot.queue.stats["submitted"] == 0
    by_label(scene, iid)
    scene.wait_for_state(iid, "job-match/approved")
    scene.settle()
    stats = scene.bot.receiver.stats
    # One reviewer act, one converge; the bot's own note and label fix caused none.
    assert stats["queued"] == 1 and scene.bot.queue.stats["converged"] == 1
    assert scene.bot.receiver.deliveries == stats["queued"] + stats["ignored"]   # nothing else was answered
    assert len(scene.history(iid)) == 1
