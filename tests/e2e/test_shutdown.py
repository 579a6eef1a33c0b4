"""Stopping the bot: SIGTERM lets the converge in hand finish; webhooks meanwhile get 503."""

from __future__ import annotations

import signal
import subprocess
import sys


from types import SimpleNamespace

from bot.sandbox.control import SandboxControl
from bot.web.server import EXIT_MARGIN_SECONDS, shutdown_budget
from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment, by_label
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


def test_sigterm_during_a_converge_held_by_a_slow_gitlab_ends_within_the_grace(sandbox, world, tmp_path):
    """The whole shutdown, not only the converges' share, ends within the grace: Cloud Run kills
    10 s after SIGTERM. GitLab here would hold the converge for a minute; the process must not."""
    grace = 3
    bot = serve_process(served_bot_settings(world), cwd=str(tmp_path),
                        env={"VORHOELLE_SERVER__SHUTDOWN_GRACE_SECONDS": str(grace)})
    scene = Scene(sandbox, world, bot, install_hook_for(bot, world))
    wait_until(lambda: ready(bot.url).json()["catch_up"]["passes"],
               message="the start-up catch-up pass, so that only the webhook's converge runs")
    iid = scene.stage()
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.faults(latency_ms=60_000, paths=["*/resource_label_events*"])  # the converge's first read
        try:
            by_label(scene, iid)
            bot.wait_for(r"webhook Issue Hook: queued")
            wait_until(lambda: control.counters()["faults"]["delayed"], message="the converge to wait on GitLab")
            exit_code = bot.stop(timeout=grace + 5)  # well short of the minute GitLab would take
        finally:
            control.faults()
    log = "\n".join(bot.lines)
    assert exit_code in (0, -signal.SIGTERM), log
    assert f"stopped with issues [{iid}] not converged" in log
    took = float(bot.wait_for(r"bot stopped; 1 issues left for the next catch-up, ([\d.]+) s after the signal").group(1))
    assert took < grace  # as the bot measured it; the rest of the exit is bounded by its own timer


def test_the_converges_get_what_is_left_of_the_grace():
    deadline = 100.0
    state = SimpleNamespace(shutdown_deadline=deadline)
    assert shutdown_budget(state, 8, clock=lambda: 93.0) == 7 - EXIT_MARGIN_SECONDS
    assert shutdown_budget(state, 8, clock=lambda: 99.9) == 0  # the connections took it all
    assert shutdown_budget(SimpleNamespace(), 8) == 8  # stopped without a signal: the whole grace


STUCK_IN_SHUTDOWN = """
import asyncio, contextlib, logging, sys, threading
from starlette.applications import Starlette
from bot.web.server import DrainingServer, listening_socket

logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")

@contextlib.asynccontextmanager
async def lifespan(app):
    yield
    await asyncio.to_thread(threading.Event().wait)   # a GitLab call in a worker that never returns

app = Starlette(lifespan=lifespan)
DrainingServer(app, 1, hard_exit=True).run(sockets=[listening_socket("127.0.0.1", 0)])
print("uvicorn returned")
"""


def test_a_process_still_held_at_the_deadline_exits_there():
    """Whatever still holds the process when the grace is over (a worker thread waiting on
    GitLab, which no one can interrupt), `vorhoelle serve` exits at the deadline."""
    process = subprocess.Popen([sys.executable, "-c", STUCK_IN_SHUTDOWN], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Application startup complete" in line:
            break
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)   # without the deadline it would wait for ever
    finally:
        process.kill()
    assert process.returncode == 0, "".join(lines) + output
    assert "shutdown took the whole grace of 1s (a GitLab call still in hand); exiting now" in output
    assert "uvicorn returned" not in output
