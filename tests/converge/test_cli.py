"""`vorhoelle labels sync` and `vorhoelle approve|reject|send|reopen` against the sandbox."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.markers import parse_markers
from tests.support.world import World

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples" / "matches.json"


@pytest.fixture
def as_bot(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> World:
    """The CLI's environment: the world's bot user and project, run from an empty directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VORHOELLE_GITLAB_URL", world.url)
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", world.users["bot"]["token"])
    monkeypatch.setenv("VORHOELLE_PROJECT", str(world.project_id))
    monkeypatch.delenv("VORHOELLE_CONFIG", raising=False)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # the CLI's log handler goes away after
    monkeypatch.setattr(root, "level", root.level)
    return world


def test_labels_sync_creates_then_finds_nothing_to_do_then_restyles(as_bot: World, capsys: pytest.CaptureFixture) -> None:
    labels = as_bot.project("maintainer").labels
    labels.create({"name": "job-match/approved", "color": "#000000", "description": "old"})
    assert main(["labels", "sync"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert "updated    job-match/approved" in first and "created    job-match/pending" in first
    assert "created    match-score/high" in first and "created    job-match" in first
    assert labels.get("job-match/approved").color.upper() == "#5CB85C"

    assert main(["labels", "sync"]) == 0
    assert all(line.startswith("unchanged") for line in capsys.readouterr().out.splitlines())


def test_labels_sync_after_staging_finds_every_label_as_staging_made_it(
    as_bot: World, capsys: pytest.CaptureFixture
) -> None:
    """Staging and `labels sync` read one definition (bot/staging/labels.py): a sync right after
    the first staging has nothing to restyle."""
    assert main(["stage", str(SAMPLES)]) == 0
    capsys.readouterr()
    assert main(["labels", "sync"]) == 0
    report = capsys.readouterr().out.splitlines()
    assert len(report) >= 7 and all(line.startswith("unchanged") for line in report), report


@pytest.mark.parametrize("command", [["labels", "sync"], ["catch-up"]])
def test_a_gitlab_that_refuses_the_token_is_said_in_one_line(
    as_bot: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, command: list[str]
) -> None:
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "not-a-valid-token")
    assert main(command) == 1
    err = capsys.readouterr().err
    assert f"vorhoelle {command[0]}: GitLab answered 401" in err and "Traceback" not in err


def _history(world: World, iid: int) -> list[Any]:
    notes = world.project("bot").issues.get(iid, lazy=True).notes.list(get_all=True, sort="asc")
    return [m for n in notes if n.author["id"] == world.users["bot"]["id"] for m in parse_markers(n.body)
            if m.kind in ("transition", "refusal")]


def test_actions_from_the_terminal(as_bot: World, capsys: pytest.CaptureFixture) -> None:
    iid = as_bot.project("bot").issues.create({"title": "Match", "labels": "job-match,job-match/pending"}).iid
    assert main(["approve", f"#{iid}", "--as", "Ada Example", "--reason", "great fit"]) == 0
    assert f"#{iid}: pending → approved" in capsys.readouterr().out.splitlines()
    assert main(["reject", str(iid)]) == 1
    assert "no step approved → rejected; from approved it can go to sent, pending" in capsys.readouterr().err
    assert main(["send", f"{as_bot.web_url}/-/issues/{iid}"]) == 0
    (approved, refused, sent) = _history(as_bot, iid)
    assert (approved.kind, approved.data["actor"], approved.data["text"]) == ("transition", "Ada Example", "great fit")
    assert refused.kind == "refusal" and sent.data["to"] == "sent"
    assert "job-match/sent" in as_bot.project("bot").issues.get(iid).labels


def test_an_issue_that_is_no_job_match_is_refused(as_bot: World, capsys: pytest.CaptureFixture) -> None:
    iid = as_bot.project("bot").issues.create({"title": "Unrelated"}).iid
    assert main(["approve", str(iid)]) == 1
    assert "not a job-match issue" in capsys.readouterr().err


def test_a_bad_issue_number_is_a_usage_error(as_bot: World, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["approve", "twelve"])
    assert exited.value.code == 2 and "not an issue number" in capsys.readouterr().err
