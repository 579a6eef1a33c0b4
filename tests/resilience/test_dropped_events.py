"""GitLab drops events while a hook cannot take them (disabled after failures, or paused here):
the bot, running all along, recovers every change with its next catch-up pass."""

from __future__ import annotations

from tests.e2e.conftest import Scene
from tests.e2e.test_review import WAYS
from tests.resilience.conftest import deliver_held, notified
from tests.support.waiting import wait_until


def test_reviews_made_while_the_hook_was_paused_are_recovered_by_the_next_catch_up(noisy_scene: Scene, control):
    scene = noisy_scene
    ways = list(WAYS.values())
    iids = [scene.stage(f"Role {n} at Example OHG") for n in range(len(ways))]
    scene.settle()
    deliveries_before = scene.bot.receiver.deliveries

    control.pause_hook(scene.hook_id)
    for iid, (act, _) in zip(iids, ways):
        act(scene, iid)
    scene.settle()
    control.unpause_hook(scene.hook_id)

    assert scene.bot.receiver.deliveries == deliveries_before   # nothing reached the bot
    assert all(scene.history(iid) == [] for iid in iids)
    catch_up = scene.bot.app.state.catch_up
    passes = scene.bot.catch_up_now()
    wait_until(lambda: catch_up.passes > passes, message="the catch-up pass")
    deliver_held(scene)

    assert catch_up.last_error is None
    for iid, (_, label) in zip(iids, ways):
        assert scene.state_labels(iid) == {label}
        assert len(scene.history(iid)) == 1
        event = label.removeprefix("job-match/")
        assert sorted(m["channel"] for m in notified(scene, iid) if m["event"] == event) == ["console", "slack"]
