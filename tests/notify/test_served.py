"""Notifications in the running bot: the API test route, the CLI, and a reviewer's approval
travelling from GitLab's webhook through converge to Slack."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import yaml

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
