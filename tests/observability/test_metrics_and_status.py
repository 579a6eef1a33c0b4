"""A scripted review on the sandbox, then what an operator sees: `/metrics` (parsed with
prometheus-client's own parser), `vorhoelle status`, and no secret anywhere along the way."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import configure_logging
from bot.status import gather, render
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings, settle
from tests.support.waiting import wait_until
from tests.support.world import new_world

API_TOKEN = "made-up-api-token-for-metrics"

# The lifecycle's states after sending, none of them reached in these tests.
AFTER_SENT = dict.fromkeys(["no-reply", "interview", "offer", "hired", "declined", "turned-down", "withdrawn"], 0)


def scrape(bot) -> dict[tuple[str, tuple], float]:
    answer = httpx.get(f"{bot.url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


@pytest.fixture
def world(sandbox):
    return new_world(sandbox, bot_access=40)


@pytest.fixture
def captured_logs(world):
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield stream
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_review_shows_in_metrics_logs_and_status(sandbox, world, captured_logs):
    settings = served_bot_settings(world, api_token=API_TOKEN)
    handler = configure_logging(settings, captured_logs)
    secrets = [world.users["bot"]["token"], API_TOKEN, settings.webhook_secret.get_secret_value()]
    with running_bot(settings) as bot:
        install_hook_for(bot, world)
        before = scrape(bot)
        reviewer = world.project("reviewer")
        issue = reviewer.issues.create({"title": "Backend engineer at Example GmbH",
                                        "labels": "job-match,job-match/pending"})
        settle(sandbox, bot)
        reviewer.issues.update(issue.iid, {"add_labels": "job-match/approved", "remove_labels": "job-match/pending"})
        settle(sandbox, bot)
        after = scrape(bot)

        assert delta(before, after, "vorhoelle_webhook_deliveries_total", event="Issue Hook", outcome="queued") >= 2
        assert delta(before, after, "vorhoelle_converge_duration_seconds_count", outcome="ok") >= 2
        assert delta(before, after, "vorhoelle_gitlab_api_calls_total",
                     endpoint="/projects/:id/issues/:id/notes", status="200") >= 1
        assert delta(before, after, "vorhoelle_gitlab_api_calls_total",
                     endpoint="/projects/:id/issues/:id/resource_label_events", status="200") >= 2
        assert after[("vorhoelle_queue_depth", ())] == 0
        endpoints = {dict(labels)["endpoint"] for name, labels in after if name == "vorhoelle_gitlab_api_calls_total"}
        assert endpoints and not any(part.isdigit() for endpoint in endpoints for part in endpoint.split("/"))

        config = httpx.get(f"{bot.url}/api/v1/config", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10)
        assert config.status_code == 200 and config.json()["gitlab_token"] == "**********"

        status = gather(bot.runtime.settings, bot.runtime.gitlab, bot.url)
        assert status.states == {"pending": 0, "approved": 1, "rejected": 0, "sent": 0, **AFTER_SENT} and status.total == 1
        [hook] = status.hooks
        assert (hook["url"], hook["state"], hook["missing_events"]) == (bot.webhook_url, "executable", [])
        wait_until(lambda: gather(bot.runtime.settings, bot.runtime.gitlab, bot.url).last_catch_up != "none yet",
                   message="the start-up catch-up pass")
        text = render(status)
        assert f"webhook #{hook['id']}: {bot.webhook_url} — executable (all events the bot needs)" in text
        assert "matches: 1 (pending 0, approved 1, rejected 0, sent 0, no-reply 0, interview 0, offer 0, hired 0, declined 0, turned-down 0, withdrawn 0)" in text  # noqa: E501

        handler.flush()
        logs = captured_logs.getvalue()
        assert any(json.loads(line).get("outcome") == "queued" for line in logs.splitlines())
        for secret in secrets:
            assert secret not in logs
            assert secret not in config.text
            assert secret not in httpx.get(f"{bot.url}/metrics", timeout=10).text


def test_status_command_without_a_running_bot(world):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VORHOELLE_")} | {
        "VORHOELLE_GITLAB_URL": world.url, "VORHOELLE_GITLAB_TOKEN": world.users["bot"]["token"],
        "VORHOELLE_PROJECT": world.path,
    }
    world.project("reviewer").issues.create({"title": "Data engineer", "labels": "job-match,job-match/pending,vorhoelle/notify-owed"})
    run = subprocess.run([sys.executable, "-m", "bot", "status"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"project: {world.path}",
        "webhook: none installed (run `vorhoelle hook install`); only catch-up sees changes",
        "last catch-up: none recorded yet",
        "watermark: none yet (the first pass looks back 7 days)",
        "notifications owed: 1 issue (#1)",
        "matches: 1 (pending 1, approved 0, rejected 0, sent 0, no-reply 0, interview 0, offer 0, hired 0, declined 0, turned-down 0, withdrawn 0)",  # noqa: E501
    ]
    assert world.users["bot"]["token"] not in run.stdout + run.stderr


def test_status_of_a_developer_bot_and_of_a_refused_token(sandbox, monkeypatch, capsys):
    """Listing hooks needs maintainer; a developer bot is a normal set-up and still gets its status."""
    from bot.cli import main

    developer = new_world(sandbox)
    for name in [n for n in os.environ if n.startswith("VORHOELLE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VORHOELLE_GITLAB_URL", developer.url)
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", developer.users["bot"]["token"])
    monkeypatch.setenv("VORHOELLE_PROJECT", developer.path)
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "webhook: not visible to the bot (listing a project's hooks needs the maintainer role)"
    assert lines[-1] == "matches: 0 (pending 0, approved 0, rejected 0, sent 0, no-reply 0, interview 0, offer 0, hired 0, declined 0, turned-down 0, withdrawn 0)"  # noqa: E501

    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "made-up-wrong-token")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err == f"vorhoelle status: GitLab at {developer.url} answered 401: the token is wrong, expired or revoked\n"

    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", developer.users["bot"]["token"])
    monkeypatch.setenv("VORHOELLE_PROJECT", "someone/elses-project")
    assert main(["status"]) == 1
    assert capsys.readouterr().err == (
        f"vorhoelle status: project 'someone/elses-project' is not visible to the bot's user at {developer.url} "
        "(404): check the id or path (group/project) and the bot's membership\n")


def test_status_against_an_unreachable_gitlab_is_one_line(monkeypatch, capsys):
    from bot.cli import main

    for name in [n for n in os.environ if n.startswith("VORHOELLE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VORHOELLE_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "made-up-token")
    monkeypatch.setenv("VORHOELLE_PROJECT", "me/jobs")
    assert main(["status"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "vorhoelle status: cannot reach GitLab at http://127.0.0.1:9: Connection refused; "
        "check gitlab_url and the network\n")


def test_lines_about_a_request_carry_its_trace(world, captured_logs, monkeypatch):
    """Cloud Logging files a line under its request by `logging.googleapis.com/trace`."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "made-up-project")
    settings = served_bot_settings(world)
    configure_logging(settings, captured_logs)
    with running_bot(settings) as bot:
        for headers in ({"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"},
                        {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {}):
            httpx.post(bot.webhook_url, json={"object_kind": "push"}, timeout=10,
                       headers={"X-Gitlab-Token": settings.webhook_secret.get_secret_value(),
                                "X-Gitlab-Event": "Push Hook", **headers})
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    assert all("severity" in line and "time" in line and "message" in line for line in lines)
    traces = [line.get("logging.googleapis.com/trace") for line in lines if line["message"].startswith("webhook Push Hook")]
    assert traces == ["projects/made-up-project/traces/105445aa7843bc8bf206b12000100000",
                      "projects/made-up-project/traces/4bf92f3577b34da6a3ce929d0e0e4736", None]
