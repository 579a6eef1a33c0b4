"""Notifications in the running bot: the API test route, the CLI, and a reviewer's approval
travelling from GitLab's webhook through converge to Slack."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime, timezone

import httpx
import pytest
import yaml

from bot.cli import main
from bot.staging.match import Match
from bot.staging.stage import stage_cycle
from tests.fakes.http import Answer
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings, settle
from tests.support.waiting import wait_until

API_TOKEN = "made-up-api-token"


def notify_settings(slack, tmp_path) -> dict:
    return {"channels": {"console": {"outbox": str(tmp_path / "outbox.jsonl")},
                         "gitlab_todo": {"enabled": False},
                         "slack": {"enabled": True, "webhook_url": slack.webhook_url, "timeout_seconds": 5}},
            "retry": {"attempts": 1}}


def test_api_sends_a_test_message_per_channel_and_says_what_happened(world, slack, tmp_path):
    settings = served_bot_settings(world, api_token=API_TOKEN, notify=notify_settings(slack, tmp_path))
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    with running_bot(settings) as bot:
        ok = httpx.post(f"{bot.url}/api/v1/notify/test", headers=auth, timeout=30)
        slack.fail_next(1, Answer(403, "action_prohibited"))
        failed = httpx.post(f"{bot.url}/api/v1/notify/test?channel=slack", headers=auth, timeout=30)
        unknown = httpx.post(f"{bot.url}/api/v1/notify/test?channel=pigeon", headers=auth, timeout=30)
        anonymous = httpx.post(f"{bot.url}/api/v1/notify/test", timeout=30)

    assert ok.status_code == 200 and ok.json()["ok"] is True
    assert {r["channel"]: r["ok"] for r in ok.json()["results"]} == {"slack": True, "console": True}
    assert slack.messages()[0]["text"] == "[Vorhölle] Test message: notifications from Vorhölle reach you here."
    assert failed.status_code == 502
    assert failed.json()["results"] == [{"channel": "slack", "ok": False, "detail": "webhook answered 403 'action_prohibited'"}]
    assert unknown.status_code == 422 and unknown.json()["details"][0]["loc"] == ["channel"]
    assert anonymous.status_code == 401


def test_cli_notify_test_reports_each_channel(slack, tmp_path):
    config = tmp_path / "vorhoelle.yml"
    config.write_text(yaml.safe_dump({"notify": notify_settings(slack, tmp_path)}))
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", "--config", str(config), "notify", "test", *args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    ok = run("--channel", "slack")
    slack.fail_next(1, Answer(404, "channel_not_found"))
    failed = run()

    assert ok.returncode == 0 and ok.stdout.split() == ["slack", "ok", "ok"]
    assert failed.returncode == 1
    assert "slack        FAILED  webhook answered 404 'channel_not_found'" in failed.stdout
    assert "console      ok      printed" in failed.stdout


@pytest.mark.timeout(120)
def test_a_reviewers_approval_reaches_slack_once(sandbox, world, slack, tmp_path):
    settings = served_bot_settings(world, notify=notify_settings(slack, tmp_path))
    with running_bot(settings) as bot:
        install_hook_for(bot, world)
        (staged,) = stage_cycle(bot.runtime, [Match(title="SRE Lead", score=92, url="https://jobs.example.com/sre")])
        settle(sandbox, bot)
        issue = world.project("reviewer").issues.get(staged.iid)
        issue.notes.create({"body": "/accept"})
        settle(sandbox, bot)
        wait_until(lambda: len(slack.messages()) >= 2, message="the approval on Slack")
        bot.catch_up_now()
        settle(sandbox, bot)

    subjects = [m["text"] for m in slack.messages()]
    assert subjects == ["[Vorhölle] New job match: 92% SRE Lead", "[Vorhölle] Approved: 92% SRE Lead"]


@pytest.mark.timeout(120)
def test_quiet_hours_pushed_in_the_project_file_hold_the_next_message(sandbox, world, slack, tmp_path):
    settings = served_bot_settings(world, notify=notify_settings(slack, tmp_path))
    with running_bot(settings) as bot:
        install_hook_for(bot, world)
        (staged,) = stage_cycle(bot.runtime, [Match(title="SRE Lead", score=92, url="https://jobs.example.com/sre")])
        hour = datetime.now(timezone.utc).hour
        quiet = f"notify:\n  quiet_hours: {{start: '{(hour - 1) % 24:02d}:00', end: '{(hour + 2) % 24:02d}:00', timezone: UTC}}\n"
        world.project("maintainer").files.create({"file_path": ".vorhoelle.yml", "branch": "main",
                                                  "commit_message": "Quiet at night", "content": quiet})
        wait_until(lambda: bot.runtime.settings.notify.quiet_hours is not None, message="the pushed quiet hours")
        world.project("maintainer").issues.get(staged.iid, lazy=True).notes.create({"body": "/accept"})
        owed = bot.runtime.settings.notify.owed_label
        wait_until(lambda: owed in bot.runtime.gitlab.get_issue(staged.iid)["labels"], message="the approval held")

    assert [m["text"] for m in slack.messages()] == ["[Vorhölle] New job match: 92% SRE Lead"]


def test_cli_notify_flush_says_what_it_delivered_held_or_skipped_and_why(make_bot, world, monkeypatch, tmp_path, capsys):
    bot = make_bot()
    bot.slack.fail_next(2, Answer(500, "rollup_error"))
    (iid,) = bot.stage(93)                                  # console told, Slack failed: owed
    assert bot.has_owed_label(iid)
    monkeypatch.chdir(tmp_path)
    for name, value in (("GITLAB_URL", world.url), ("GITLAB_TOKEN", world.users["bot"]["token"]),
                        ("PROJECT", str(world.project_id)), ("NOTIFY__CHANNELS__SLACK__WEBHOOK_URL", bot.slack.webhook_url),
                        ("NOTIFY__CHANNELS__SLACK__ENABLED", "true"), ("NOTIFY__CHANNELS__GITLAB_TODO__ENABLED", "false"),
                        ("NOTIFY__CHANNELS__CONSOLE__OUTBOX", str(bot.outbox))):
        monkeypatch.setenv(f"VORHOELLE_{name}", value)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    hour = datetime.now(timezone.utc).hour
    capsys.readouterr()                                     # what the console channel printed so far

    def flush(**env: str) -> tuple[int, list[str]]:
        for name, value in env.items():
            monkeypatch.setenv(f"VORHOELLE_NOTIFY__{name}", value)
        status = main(["notify", "flush"])
        return status, capsys.readouterr().out.splitlines()

    quiet = flush(QUIET_HOURS=f'{{"start": "{(hour - 1) % 24:02d}:00", "end": "{(hour + 2) % 24:02d}:00", "timezone": "UTC"}}')
    assert quiet[0] == 0 and quiet[1][0].startswith("nothing delivered: quiet hours (")
    monkeypatch.delenv("VORHOELLE_NOTIFY__QUIET_HOURS")
    held = f"held       #{iid} staged → slack: a new match waits 3600 s for its staging cycle's summary"
    assert flush(BATCH_SECONDS="3600") == (0, [held])
    assert flush(BATCH_SECONDS="0") == (0, [f"delivered  #{iid} staged → slack: ok"])
    assert flush() == (0, ["nothing owed"])
    assert bot.notified(iid) == [("staged", "console"), ("staged", "slack")]
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "not-a-valid-token")
    assert main(["notify", "flush"]) == 1
    assert "\nvorhoelle notify flush: GitLab failed: GitLab answered 401" in capsys.readouterr().err
