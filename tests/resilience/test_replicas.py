"""Two replicas of the bot (`vorhoelle serve` twice, as Cloud Run runs old and new revision side by
side during a deploy, or more than one instance) on one project, each receiving every webhook
through a hook of its own, under a burst of review transitions: every transition is recorded once,
and every message goes out once — not twice, not as a possible repeat.

Real processes: within one process the converges of an issue take turns, which would hide the race.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.conftest import Scene
from tests.resilience.conftest import comment, emoji, label, notified, notify_config, outbox_items, slack_items
from tests.support.botserver import install_hook_for, serve_process, served_bot_settings
from tests.support.waiting import wait_until

BURST = int(os.environ.get("VORHOELLE_REPLICA_BURST", "200"))
WAYS = [(label("approved"), "approved"), (comment("/reject not remote"), "rejected"),
        (emoji("thumbsup"), "approved"), (comment("/accept"), "approved"), (emoji("thumbsdown"), "rejected")]


def settled(bot) -> bool:
    try:
        ready = httpx.get(f"{bot.url}/health/ready", timeout=10).json()
    except httpx.TransportError:
        return False
    return ready.get("catch_up", {}).get("last_success") is not None and ready["queue"]["idle"]


@pytest.mark.timeout(420)
def test_two_replicas_record_every_transition_once_and_send_every_message_once(
        sandbox, world, slack, outbox, tmp_path: Path):
    config = tmp_path / "vorhoelle.yml"
    config.write_text(yaml.safe_dump({"notify": notify_config(slack, outbox)}))
    settings = served_bot_settings(world)
    replicas = [serve_process(settings, cwd=str(tmp_path), env={"VORHOELLE_CONFIG": str(config)}) for _ in range(2)]
    try:
        scene = Scene(sandbox, world, replicas[0], install_hook_for(replicas[0], world))
        install_hook_for(replicas[1], world)   # GitLab delivers every event to both
        iids = [scene.stage(f"Role {n} at Example SE") for n in range(BURST)]
        rng = random.Random(200)
        reviewer = world.project("reviewer")

        def burst() -> None:
            for n, iid in enumerate(iids):
                WAYS[n % len(WAYS)][0](reviewer, iid)
                time.sleep(rng.uniform(0, 0.02))

        acting = threading.Thread(target=burst)
        acting.start()
        acting.join()
        for bot in replicas:
            wait_until(lambda: settled(bot), timeout=180, message="both replicas to converge the burst")
        owed = settings.notify.owed_label
        wait_until(lambda: not world.project("maintainer").issues.list(labels=[owed], get_all=True),
                   timeout=120, message="messages another replica was sending to be recorded")

        for n, iid in enumerate(iids):
            event = WAYS[n % len(WAYS)][1]
            web_url = scene.issue(iid).web_url
            assert scene.state_labels(iid) == {f"job-match/{event}"}, iid
            assert len(scene.history(iid)) == 1, (iid, scene.history(iid))
            for channel, received in (("slack", slack_items(slack, web_url)), ("console", outbox_items(outbox, web_url))):
                records = [m for m in notified(scene, iid) if m["event"] == event and m["channel"] == channel]
                assert (received, len(records)) == (1, 1), (iid, channel, received, records)
                assert records[0].get("possible_repeat") is False, (iid, channel, records)
        lines = [line for bot in replicas for line in bot.lines]
        assert any("deleted mine" in line for line in lines) or any("claimed" in line for line in lines), \
            "the replicas never raced; the test proves nothing"
    finally:
        for bot in replicas:
            assert bot.stop() in (0, -15), "\n".join(bot.lines[-20:])
