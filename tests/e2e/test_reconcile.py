"""The full reconcile against the sandbox: interrupted half-way it continues where it stopped,
converges no issue twice in that pass, and keeps its pace (the clock and the sleep are injected:
nothing waits for real). Also: `vorhoelle reconcile --dry-run` writes nothing, and an unreadable
watermark falls back to a full reconcile and says why on the admin channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import gitlab
import httpx
import pytest

from bot.catch_up import CatchUp
from bot.cli import main
from bot.reconcile import Reconciler
from bot.runtime import converge
from bot.sandbox.control import SandboxControl
from bot.sandbox.issue_service import create_issue
from bot.sandbox.store import format_time
from tests.e2e.conftest import Scene
from tests.support.bot import bot_runtime, cli_environment
from tests.support.botserver import ready as ready_answer
from tests.support.botserver import running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import World

PER_MINUTE = 60
ISSUES = 12


class FakeTime:
    """A monotonic clock that only the injected sleep moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def staged(sandbox: Any, world: World, closed: int = 2) -> list[int]:
    scene = Scene(sandbox, world)
    iids = [scene.stage(f"Role {n} at Example AG") for n in range(ISSUES)]
    for iid in iids[:closed]:
        world.project("reviewer").issues.update(iid, {"state_event": "close"})
    return iids


def process(world: World, time: FakeTime) -> tuple[Any, Reconciler]:
    """What one bot process holds: its runtime and its reconciler (reading GitLab afresh)."""
    runtime = bot_runtime(world, catch_up={"max_calls_per_minute": PER_MINUTE})
    return runtime, Reconciler(runtime, CatchUp(runtime), sleep=time.sleep, monotonic=time)


def test_an_interrupted_reconcile_continues_where_it_stopped_at_its_pace(sandbox, world: World) -> None:
    iids = staged(sandbox, world)
    time = FakeTime()
    steps: list[tuple[int, float, int]] = []   # (iid, fake time, GitLab calls so far) per converge
    first_run_steps = ISSUES // 2

    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        def converging(runtime: Any, reconciler: Reconciler, stop_after: int | None = None):
            def step(iid: int) -> object:
                steps.append((iid, time.now, control.counters()["total"]))
                if stop_after is not None and len(steps) == stop_after:
                    reconciler.stop()   # as SIGTERM does: this issue finishes, then it records and ends
                return converge(runtime, iid)
            return step

        runtime, first = process(world, time)
        interrupted = first.run(converging(runtime, first, stop_after=first_run_steps))
        runtime, second = process(world, time)
        assert second.catch_up.status.iid is None   # nothing in memory: the progress comes from GitLab
        finished = second.run(converging(runtime, second))

    assert not interrupted.finished and len(interrupted.converged) == ISSUES // 2
    assert finished.finished and finished.resumed_after == ISSUES // 2
    assert [iid for iid, _, _ in steps] == iids   # each once, in creation order, closed ones too
    for run in (steps[:first_run_steps], steps[first_run_steps:]):   # each process keeps its pace
        for (_, t0, calls0), (_, t, calls) in zip(run, run[1:]):
            assert (calls - calls0) * 60 / PER_MINUTE <= t - t0 + 1e-9   # never faster than the limit
    assert second.catch_up.status.record.full_run is None and second.catch_up.status.record.full_last is not None

    # the next full reconcile skips closed issues nobody touched since this one started
    runtime, third = process(world, time)
    again = third.run(lambda iid: converge(runtime, iid))
    assert sorted(again.converged) == sorted(iids[2:]) and again.skipped == 2


@pytest.fixture
def cli_env(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The command line in this process, configured through the environment; its outbox."""
    outbox = tmp_path / "outbox.jsonl"
    with cli_environment(world, monkeypatch, NOTIFY__ADMIN_CHANNEL="console",
                         NOTIFY__CHANNELS__CONSOLE__OUTBOX=str(outbox)):
        yield outbox


def test_a_dry_run_lists_every_issue_and_writes_nothing(sandbox, world: World, cli_env: Path, capsys) -> None:
    iids = staged(sandbox, world, closed=0)
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.reset_counters()
        assert main(["reconcile", "--dry-run"]) == 0
        writes = [key for key in control.counters()["calls"] if not key.startswith("GET ")]
    out = capsys.readouterr().out
    assert [f"#{iid}: would converge" in out for iid in iids] == [True] * len(iids)
    assert writes == []


def test_an_unreadable_watermark_falls_back_to_a_full_reconcile_and_says_why(sandbox, world: World, cli_env: Path, capsys) -> None:
    iids = staged(sandbox, world, closed=0)
    assert main(["catch-up", "--reconcile-minutes", "0"]) == 0
    first = capsys.readouterr().out
    status_iid = int(first.rsplit("status issue #", 1)[1].split(")")[0])
    root = gitlab.Gitlab(world.url, private_token=sandbox.root_token)
    root.projects.get(world.project_id, lazy=True).issues.delete(status_iid)   # someone tidied up

    assert main(["catch-up"]) == 0
    out = capsys.readouterr().out
    assert "no status issue labelled vorhoelle/status made by the bot is visible" in out
    assert f"full reconcile finished: {len(iids)} issues converged" in out
    health = [json.loads(line)["text"] for line in cli_env.read_text(encoding="utf-8").splitlines()
              if json.loads(line)["kind"] == "health"]
    assert len(health) == 1 and "The catch-up's watermark cannot be read" in health[0]
    assert "(the watermark)" in (main(["catch-up"]), capsys.readouterr().out)[1]   # a new status issue holds it


def test_the_served_bot_runs_a_due_full_reconcile_and_shows_it(sandbox, world: World, caplog) -> None:
    iids = staged(sandbox, world, closed=0)
    settings = served_bot_settings(world, catch_up={"max_calls_per_minute": 100_000})
    with caplog.at_level("INFO", logger="bot.reconcile"), running_bot(settings) as served:
        loop = served.app.state.catch_up
        wait_until(lambda: loop.passes >= 1, message="the first pass")
        assert loop.catch_up.status.record.full_next is not None and not loop.catch_up.reconcile_due()
        loop.catch_up.status.update(full_next=loop.catch_up.clock() - timedelta(seconds=1))  # as a day later
        passes = served.catch_up_now()
        wait_until(lambda: loop.passes > passes and loop.reconciling and loop.reconciling.done(),
                   message="the full reconcile after the next pass")
        ready = ready_answer(served.url).json()["catch_up"]["full_reconcile"]
        metrics = httpx.get(f"{served.url}/metrics").text
    assert ready["running"] is False and ready["last_started"] and ready["next_due"] > ready["last_started"]
    assert 'vorhoelle_reconcile_issues_total{outcome="converged"} ' in metrics
    assert any(f"full reconcile finished: {len(iids)} issues converged" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_a_walk_yields_every_issue_once_even_when_more_than_a_page_share_one_timestamp(sandbox, world: World, field: str) -> None:
    """An import can stamp many issues alike; a walk that only moved its `*_after` bound would
    read the same page for ever (or stop at it)."""
    context = sandbox.app.state.sandbox
    store = context.store
    bot_user, project = store.get("users", world.users["bot"]["id"]), store.get("projects", world.project_id)
    stamp = format_time(datetime.now(timezone.utc) - timedelta(days=1))
    for n in range(130):
        issue = create_issue(context, bot_user, project, f"Imported {n}", "", labels=["job-match"],
                             assignee_ids=[], confidential=False)
        issue.created_at = issue.updated_at = stamp
    runtime = bot_runtime(world)
    walked = [issue["iid"] for page in runtime.gitlab.walk_issues(field, labels=["job-match"]) for issue in page]
    assert sorted(walked) == list(range(1, 131)) and len(walked) == 130


def test_a_failed_issue_is_tried_again_at_the_end_and_one_failing_still_is_said(sandbox, world: World, caplog) -> None:
    iids = staged(sandbox, world, closed=0)
    flaky, broken = iids[1], iids[3]
    tries: list[int] = []
    runtime, reconciler = process(world, FakeTime())

    def step(iid: int) -> object:
        tries.append(iid)
        if iid == broken or (iid == flaky and tries.count(iid) == 1):
            return RuntimeError("GitLab answered 502")
        return converge(runtime, iid)

    with caplog.at_level("ERROR", logger="bot.reconcile"):
        report = reconciler.run(step)
    assert report.finished and report.failed == [broken] and tries == [*iids, flaky, broken]
    assert sorted(report.converged) == sorted(set(iids) - {broken})
    assert f"issues [{broken}] could not be converged" in caplog.text
    assert reconciler.catch_up.status.record.full_run is None   # finished: the next is due in a day


def test_the_status_issue_is_never_a_job_match_whatever_its_labels(sandbox, world: World, cli_env: Path, capsys) -> None:
    staged(sandbox, world, closed=0)
    assert main(["catch-up"]) == 0
    status_iid = int(capsys.readouterr().out.rsplit("status issue #", 1)[1].split(")")[0])
    world.project("reviewer").issues.update(status_iid, {"add_labels": "job-match,job-match/approved"})
    runtime = bot_runtime(world)
    before = len(world.project("reviewer").issues.get(status_iid).notes.list(get_all=True))

    assert main(["reconcile"]) == 0
    assert f"#{status_iid}:" not in capsys.readouterr().out            # not walked
    assert "status issue" in converge(runtime, status_iid).skipped      # nor converged if asked
    status = world.project("reviewer").issues.get(status_iid)
    assert len(status.notes.list(get_all=True)) == before and "job-match/pending" not in status.labels


def test_a_token_that_lost_its_rights_is_said_on_the_admin_channel_and_in_one_line(world: World, cli_env: Path,
                                                                                   monkeypatch, capsys) -> None:
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "glpat-revokedrevokedrevo")
    assert main(["catch-up"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == "vorhoelle catch-up: GitLab answered 401: 401 Unauthorized"
    assert "Traceback" not in captured.err
    health = [json.loads(line)["text"] for line in cli_env.read_text(encoding="utf-8").splitlines()]
    assert len(health) == 1 and "has the token lost its rights?" in health[0]
