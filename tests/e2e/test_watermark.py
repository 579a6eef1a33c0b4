"""A pause of any length loses nothing: the catch-up starts where the last pass recorded its
watermark in GitLab, not a fixed window back.

The sandbox's clock and the bot's are moved back together (`PUT /-/sandbox/clock`, and
`bot.catch_up.now`), so what happens before the bot is back is stamped `PAUSE` ago: older than the
first window a served bot looks back (7 days) and than the CI template's old `--since 1d`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import bot.catch_up
from bot.cli import main
from bot.markers import parse_markers
from bot.sandbox.control import SandboxControl
from bot.status_issue import KIND
from tests.e2e.conftest import Scene
from tests.e2e.test_catch_up import CHANGES, changes_while_down, two_passes_after_the_restart
from tests.history.test_ci_template import commands
from tests.support.bot import cli_environment
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings
from tests.support.waiting import wait_until

PAUSE = timedelta(days=10)
@pytest.fixture
def move_clocks(sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[timedelta], None]]:
    """`move_clocks(-PAUSE)`: the sandbox stamps, and the bot reads, the time that long ago."""
    control = SandboxControl(sandbox.url, sandbox.root_token)

    def move(offset: timedelta) -> None:
        control.shift_clock(offset.total_seconds())
        monkeypatch.setattr(bot.catch_up, "now", lambda: datetime.now(timezone.utc) + offset)

    yield move
    control.shift_clock(0)
    control.close()


def watched_settings(world, outbox: Path, **over):
    """Console notifications into `outbox`; events older than notify.max_age_days (7 by default)
    are history, not news, and the pause is longer. No full reconcile falls due in the pause
    unless `over` says so: the watermark alone must find the changes."""
    return served_bot_settings(world, notify={"max_age_days": 30, "channels": {"console": {"outbox": str(outbox)}}},
                               **{"catch_up": {"full_every_hours": 24 * 30}, **over})


def notified(outbox: Path) -> Counter[tuple[int, str]]:
    entries = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []
    return Counter((item["iid"], item["event"]) for entry in entries for item in entry["items"]
                   if item["event"] != "staged")


def watermark_of(scene: Scene, status_iid: int) -> str:
    bot_id = scene.world.users["bot"]["id"]
    notes = scene.world.project("bot").issues.get(status_iid).notes.list(get_all=True)
    (marker,) = [m for n in notes if n.author["id"] == bot_id for m in parse_markers(n.body) if m.kind == KIND]
    return marker.data["watermark"]


def test_changes_older_than_every_window_are_recorded_and_notified_once(sandbox, world, move_clocks, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    settings = watched_settings(world, outbox)
    move_clocks(-PAUSE)
    with running_bot(settings) as served:
        scene = Scene(sandbox, world, served, install_hook_for(served, world))
        iids = [scene.stage(f"Role {n} at Example AG") for n in range(len(CHANGES))]
        loop = served.app.state.catch_up
        wait_until(lambda: loop.passes >= 1, message="the first pass")
        scene.settle()
        status_iid = loop.catch_up.status.iid
    first_mark = watermark_of(scene, status_iid)
    port = urlsplit(served.url).port

    changes_while_down(scene, iids)   # the bot is down
    move_clocks(timedelta(0))
    week_ago = datetime.now(timezone.utc) - timedelta(days=7)
    assert all(datetime.fromisoformat(scene.issue(iid).updated_at.replace("Z", "+00:00")) < week_ago for iid in iids)
    assert all(scene.history(iid) == [] for iid in iids)

    with running_bot(settings, port=port) as scene.bot:  # back where the hook points
        two_passes_after_the_restart(scene, iids)
        assert scene.bot.app.state.catch_up.catch_up.status.iid == status_iid  # found again, not made anew
        assert [len(scene.history(iid)) for iid in iids] == [1] * len(iids)
        expected_events = {(iid, label.split("/")[1]) for iid, (_, label) in zip(iids, CHANGES)}
        assert notified(outbox) == Counter(dict.fromkeys(expected_events, 1))
    assert watermark_of(scene, status_iid) > first_mark

    bot_id = world.users["bot"]["id"]
    status = world.project("reviewer").issues.get(status_iid)
    assert status.confidential and status.author["id"] == bot_id and "job-match" not in status.labels


def test_the_ci_templates_catch_up_starts_from_the_watermark_too(sandbox, world, move_clocks, tmp_path, monkeypatch, capsys):
    outbox = tmp_path / "outbox.jsonl"
    with cli_environment(world, monkeypatch, NOTIFY__MAX_AGE_DAYS="30", NOTIFY__CHANNELS__CONSOLE__OUTBOX=str(outbox),
                         CATCH_UP__FULL_EVERY_HOURS=str(24 * 30)):
        through_the_template(sandbox, world, move_clocks, outbox, capsys)


def through_the_template(sandbox, world, move_clocks, outbox: Path, capsys) -> None:
    [catch_up] = commands("vorhoelle-catch-up")

    def scheduled_pipeline() -> str:
        code = main(catch_up)
        out = capsys.readouterr().out
        assert code == 0, out
        return out

    scene = Scene(sandbox, world)
    move_clocks(-PAUSE)
    iids = [scene.stage(f"Role {n} at Example AG") for n in range(len(CHANGES))]
    assert "(the first run's window)" in scheduled_pipeline()
    for iid, (act, _) in zip(iids, CHANGES):   # no webhook at all: only the schedule sees these
        act(scene, iid)
    move_clocks(timedelta(0))

    out = scheduled_pipeline()
    assert "(the watermark)" in out and f"{len(CHANGES)} issues converged" in out
    assert out.count("days old, more than the 7 days one pass covers") == 1   # said, covered in pages
    scheduled_pipeline()   # the next run starts after these: nothing is recorded twice
    assert [scene.state_labels(iid) for iid in iids] == [{label} for _, label in CHANGES]
    assert [len(scene.history(iid)) for iid in iids] == [1] * len(iids)
    expected_events = {(iid, label.split("/")[1]) for iid, (_, label) in zip(iids, CHANGES)}
    assert notified(outbox) == Counter(dict.fromkeys(expected_events, 1))

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "last catch-up: 20" in status and "issues converged since" in status
    assert "watermark: 20" in status and "full reconcile: none yet, next due " in status
