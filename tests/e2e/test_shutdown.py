"""Stopping the bot: SIGTERM lets the converge in hand finish; webhooks meanwhile get 503."""

from __future__ import annotations

import signal


from bot.sandbox.control import SandboxControl
from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment
from tests.support.botserver import install_hook_for, ready, running_bot, serve_process, served_bot_settings
from tests.support.waiting import wait_until


def test_sigterm_lets_the_converge_in_hand_finish(sandbox, world, tmp_path):
    bot = serve_process(served_bot_settings(world), cwd=str(tmp_path),
                        env={"VORHOELLE_SERVER__SHUTDOWN_GRACE_SECONDS": "60"})
    scene = Scene(sandbox, world, bot, install_hook_for(bot, world))
    wait_until(lambda: ready(bot.url).json()["catch_up"]["passes"],
               message="the start-up catch-up pass, so that only the webhook's converge runs")
    iid = scene.stage()
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.faults(latency_ms=700, paths=["*/notes*"])  # a converge that takes seconds
        by_comment("/accept")(scene, iid)
        bot.wait_for(r"webhook Note Hook: queued")
        exit_code = bot.stop()
        control.faults()
    log = "\n".join(bot.lines)
    assert exit_code in (0, -signal.SIGTERM), log
    assert f"converged issue #{iid} after Note Hook" in log
    assert "bot stopped; 0 issues left for the next catch-up" in log
    assert scene.state_labels(iid) == {"job-match/approved"} and len(scene.history(iid)) == 1


def test_the_signal_marks_the_app_as_draining_before_uvicorn_stops(world):
    with running_bot(served_bot_settings(world)) as bot:
        assert bot.app.state.draining is False
        bot.server.handle_exit(signal.SIGTERM, None)
        assert bot.app.state.draining is True and bot.server.should_exit
        wait_until(lambda: not bot.thread.is_alive(), message="the server to stop")
