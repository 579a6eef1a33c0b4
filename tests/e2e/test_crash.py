"""A bot killed half-way through a burst (SIGKILL: no goodbye) ends, after a restart, with every
change recorded exactly once — real processes: `vorhoelle sandbox` and `vorhoelle serve`."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bot.sandbox.control import SandboxControl
from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment, by_emoji, by_label
from tests.support.botserver import install_hook_for, ready as ready_details, sandbox_process, serve_process, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import new_world

WAYS = [
    (by_label, "job-match/approved"),
    (by_comment("/reject not remote"), "job-match/rejected"),
    (by_emoji("thumbsup"), "job-match/approved"),
    (by_comment("/accept"), "job-match/approved"),
]
BURST = 12


@pytest.fixture
def sandbox_proc():
    process, sandbox = sandbox_process()
    yield sandbox
    process.stop()


def test_killed_mid_burst_then_restarted_records_every_change_once(sandbox_proc, tmp_path):
    world = new_world(sandbox_proc)
    settings = served_bot_settings(world)
    bot = serve_process(settings, cwd=str(tmp_path))
    scene = Scene(sandbox_proc, world, bot, install_hook_for(bot, world))
    iids = [scene.stage(f"Role {n} at Example SE") for n in range(BURST)]
    expected = {iid: WAYS[n % len(WAYS)] for n, iid in enumerate(iids)}
    with SandboxControl(sandbox_proc.url, sandbox_proc.root_token) as control:
        control.faults(latency_ms=150, paths=["*/notes*"])  # slow converges: the kill lands mid-burst
        for iid, (act, _) in expected.items():
            act(scene, iid)
        wait_until(lambda: any(scene.history(iid) for iid in iids), timeout=60, message="a first note")
        bot.kill()
        control.faults()
    recorded_at_kill = sum(bool(scene.history(iid)) for iid in iids)
    assert recorded_at_kill < BURST, "the bot finished before the kill; the test proves nothing"

    bot = serve_process(settings, port=urlsplit(bot.url).port, cwd=str(tmp_path))
    try:
        for iid, (_, label) in expected.items():
            scene.wait_for_state(iid, label)

        def caught_up() -> bool:
            ready = ready_details(bot.url).json()
            return ready["catch_up"]["last_success"] is not None and ready["queue"]["idle"]

        wait_until(caught_up, timeout=60, message="the restarted bot's catch-up to finish")
        assert {iid: len(scene.history(iid)) for iid in iids} == {iid: 1 for iid in iids}
    finally:
        assert bot.stop() in (0, -15), "\n".join(bot.lines[-20:])
