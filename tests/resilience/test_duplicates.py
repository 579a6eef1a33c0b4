"""GitLab delivering every event two or three times, in shuffled order, changes nothing: one
history note per transition and one message per channel."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from bot.hook_admin import delivered
from tests.e2e.conftest import Scene
from tests.e2e.test_redelivery import deliveries, resend
from tests.e2e.test_review import WAYS
from tests.resilience.conftest import deliver_held, notified, outbox_items, slack_items


def test_every_delivery_resent_two_or_three_times_out_of_order_leaves_one_note_and_one_message(noisy_scene: Scene, slack, outbox):
    scene = noisy_scene
    ways = list(WAYS.values())
    iids = [scene.stage(f"Role {n} at Example KG") for n in range(len(ways))]
    scene.settle()
    for iid, (act, _) in zip(iids, ways):
        act(scene, iid)
    for iid, (_, label) in zip(iids, ways):
        scene.wait_for_state(iid, label)
    deliver_held(scene)
    log = [event for event in deliveries(scene) if delivered(event)]
    assert len(log) >= 2 * len(iids)   # the stagings and the reviewers' acts

    rng = random.Random(8)
    copies = [event["id"] for event in log for _ in range(rng.choice((2, 3)))]
    rng.shuffle(copies)
    converged = scene.bot.queue.stats["converged"]

    def again(event_id: int) -> None:
        scene.bot.receiver.recent.clear()  # no help from the Idempotency-Key cache: each copy converges
        resend(scene, event_id)

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(again, copies))
    deliver_held(scene)

    assert scene.bot.queue.stats["converged"] > converged
    assert scene.bot.queue.stats["failed"] == 0
    for iid, (_, label) in zip(iids, ways):
        web_url = scene.issue(iid).web_url
        event = label.removeprefix("job-match/")
        assert scene.state_labels(iid) == {label}
        assert len(scene.history(iid)) == 1, iid
        assert (slack_items(slack, web_url), outbox_items(outbox, web_url)) == (1, 1), iid
        assert sorted(m["channel"] for m in notified(scene, iid) if m["event"] == event) == ["console", "slack"]
