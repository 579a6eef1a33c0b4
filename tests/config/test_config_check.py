"""`vorhoelle config check` against the sandbox GitLab: each finding's exact advice."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.config.check import run_checks
from tests.support.world import new_world


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("VORHOELLE_"):
            monkeypatch.delenv(name)


def use(monkeypatch, world, role="bot", **extra):
    env = {
        "VORHOELLE_GITLAB_URL": world.url,
        "VORHOELLE_GITLAB_TOKEN": world.users[role]["token"],
        "VORHOELLE_PROJECT": world.path,
        "VORHOELLE_WEBHOOK_SECRET": "hook-secret-value",
        "VORHOELLE_API_TOKEN": "api-token-value",
        "VORHOELLE_PUBLIC_URL": "https://bot.example.org",
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def texts(findings, level):
    return [f.text for f in findings if f.level == level]


def test_a_sound_setup_has_no_errors_and_says_what_it_checked(sandbox, monkeypatch):
    world = new_world(sandbox, bot_access=40)
    use(monkeypatch, world)
    findings = run_checks(None)
    bot = world.users["bot"]["username"]
    assert texts(findings, "error") == [] and texts(findings, "warning") == []
    assert texts(findings, "ok") == [
        "settings are valid",
        f"GitLab at {world.url} accepts the token: the bot acts as @{bot}",
        "the token has scope api",
        f"project {world.path} is visible",
        f"@{bot} is maintainer in the project",
        "no .vorhoelle.yml in the project (optional)",
    ]


def test_a_developer_bot_is_told_what_needs_maintainer(sandbox, monkeypatch):
    world = new_world(sandbox)
    use(monkeypatch, world)
    bot = world.users["bot"]["username"]
    assert texts(run_checks(None), "warning") == [
        f"`vorhoelle hook install` and PUT /api/v1/config (committing .vorhoelle.yml to a protected "
        f"default branch) need maintainer; @{bot} is developer"
    ]


def test_a_guest_is_not_enough(sandbox, monkeypatch):
    world = new_world(sandbox)
    use(monkeypatch, world, role="guest")
    guest = world.users["guest"]["username"]
    assert texts(run_checks(None), "error") == [
        f"@{guest} is guest in the project: the bot needs at least reporter (developer recommended) "
        "to label issues and write notes"
    ]


def test_a_wrong_token(sandbox, monkeypatch):
    world = new_world(sandbox)
    use(monkeypatch, world, VORHOELLE_GITLAB_TOKEN="glpat-fake-00000")
    assert texts(run_checks(None), "error") == [
        f"GitLab at {world.url} refused the token (401): it is wrong, expired or revoked; create a new "
        "one with scope `api` for the bot's user and set VORHOELLE_GITLAB_TOKEN"
    ]


def test_a_token_without_scope_api(sandbox, monkeypatch):
    world = new_world(sandbox)
    bot = world.admin.users.get(world.users["bot"]["id"])
    read_only = bot.personal_access_tokens.create({"name": "read", "scopes": ["read_api"]}).token
    use(monkeypatch, world, VORHOELLE_GITLAB_TOKEN=read_only)
    assert "the token's scopes are read_api: the bot needs `api` (it writes labels and notes); " \
           "create a token with scope `api`" in texts(run_checks(None), "error")


def test_a_project_the_bot_cannot_see(sandbox, monkeypatch):
    world = new_world(sandbox)
    use(monkeypatch, world, VORHOELLE_PROJECT="someone/elses-project")
    bot = world.users["bot"]["username"]
    assert texts(run_checks(None), "error") == [
        f"project 'someone/elses-project' is not visible to @{bot}: check the id or path "
        f"(group/project) and add @{bot} to the project as a developer"
    ]


def test_gitlab_out_of_reach(monkeypatch, sandbox):
    world = new_world(sandbox)
    use(monkeypatch, world, VORHOELLE_GITLAB_URL="http://127.0.0.1:9")
    [problem] = texts(run_checks(None), "error")
    assert problem.startswith("cannot reach GitLab at http://127.0.0.1:9: ")
    assert problem.endswith("; check gitlab_url and the network")


def test_missing_deployment_values_are_named_without_contacting_gitlab(monkeypatch):
    monkeypatch.setenv("VORHOELLE_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("VORHOELLE_WEBHOOK_SECRET", "")  # empty is not set: it would accept an empty token
    monkeypatch.setenv("VORHOELLE_API_TOKEN", " ")
    findings = run_checks(None)
    assert texts(findings, "error") == [
        "gitlab_token is not set: create a personal (or project) access token with scope `api` for "
        "the bot's GitLab user and set VORHOELLE_GITLAB_TOKEN or VORHOELLE_GITLAB_TOKEN_FILE",
        "project is not set: set VORHOELLE_PROJECT to the project's id or path (group/project)",
    ]
    assert texts(findings, "warning") == [
        "webhook_secret is not set (an empty one counts as not set): the bot refuses every webhook until "
        "it has one; choose a long random string, set VORHOELLE_WEBHOOK_SECRET, and give the same to "
        "GitLab's hook",
        "api_token is not set (an empty one counts as not set): /api/v1 stays closed; set "
        "VORHOELLE_API_TOKEN to open it",
        "public_url is not set: `vorhoelle hook install` needs --url, or set VORHOELLE_PUBLIC_URL to "
        "the address GitLab reaches the bot at",
    ]


def test_a_missing_attachment_file(tmp_path, monkeypatch):
    config = tmp_path / "bot.yml"
    config.write_text(f"staging:\n  attachments: {{cv: {tmp_path / 'cv.pdf'}}}\n")
    assert texts(run_checks(str(config), offline=True), "error") == [
        f"staging.attachments.cv: {tmp_path / 'cv.pdf'} does not exist or is not a file"
    ]


def test_an_invalid_project_file_is_reported_at_its_line(sandbox, monkeypatch):
    world = new_world(sandbox, bot_access=40)
    world.project("maintainer").files.create({
        "file_path": ".vorhoelle.yml", "branch": "main", "commit_message": "bot settings",
        "content": "staging:\n  threshold: 80\nwebhook_secret: oops\n",
    })
    use(monkeypatch, world)
    assert texts(run_checks(None), "error") == [
        ".vorhoelle.yml:3: webhook_secret is a secret and must not be in the repository; give it to "
        "the bot as VORHOELLE_WEBHOOK_SECRET (the bot ignores the file until this is fixed)"
    ]


def vorhoelle(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("VORHOELLE_")} | env,
    )


def test_the_command_exits_non_zero_on_problems_and_never_prints_secrets(sandbox, tmp_path):
    world = new_world(sandbox, bot_access=40)
    with pytest.MonkeyPatch.context() as only_here:  # builds the child's environment, then undone
        env = use(only_here, world)
    good = vorhoelle("config", "check", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines()[-1] == "configuration OK"

    config = tmp_path / "bot.yml"
    config.write_text("staging:\n  threshold: 101\n")
    bad = vorhoelle("config", "check", "--config", str(config), env=env)
    assert bad.returncode == 1
    assert f"✗ {config}:2: staging.threshold: Input should be less than or equal to 100 (got 101)" in bad.stdout

    shown = vorhoelle("config", "show", "--json", env=env)
    assert shown.returncode == 0 and '"gitlab_token": "**********"' in shown.stdout
    for run in (good, bad, shown):
        for secret in (world.users["bot"]["token"], "hook-secret-value", "api-token-value"):
            assert secret not in run.stdout + run.stderr


def test_any_command_reports_broken_settings_without_a_traceback(tmp_path):
    config = tmp_path / "bot.yml"
    config.write_text("stagin: {}\n")
    run = vorhoelle("--config", str(config), "config", "show", env={})
    assert run.returncode == 2
    assert run.stderr == f"vorhoelle: the settings cannot be used:\n  {config}:1: unknown setting 'stagin'; did you mean 'staging'?\n"


def test_notifications_that_would_go_nowhere_are_warned_about(tmp_path):
    config = tmp_path / "bot.yml"
    config.write_text("notify:\n  admin_channel: slack\n  channels:\n    email:\n      send_application: {enabled: true}\n")
    assert texts(run_checks(str(config), offline=True), "warning")[:2] == [
        "notify.admin_channel is slack, which is not enabled: the bot's health reports reach only its "
        "log; enable notify.channels.slack or name an enabled channel",
        "notify.channels.email.send_application is on but e-mail is not enabled: no application is "
        "mailed; enable notify.channels.email",
    ]


def test_an_event_whose_channels_are_all_off_is_warned_about(tmp_path):
    config = tmp_path / "bot.yml"
    config.write_text(
        "notify:\n"
        "  events:\n"
        "    approved: {channels: [gitlab_todo], min_score: 80}\n"   # switched off below
        "    rejected: [slack, email]\n"                             # neither is enabled
        "    sent: [slack, console]\n"                               # console is on: heard
        "    refused: []\n"                                          # silenced on purpose
        "  channels:\n"
        "    gitlab_todo: {enabled: false}\n"
    )
    assert texts(run_checks(str(config), offline=True), "warning")[:2] == [
        "notify.events.approved names only gitlab_todo, which is not enabled: approved events reach "
        "nobody; enable one of them or add an enabled channel to the rule",
        "notify.events.rejected names only slack, email, which are not enabled: rejected events reach "
        "nobody; enable one of them or add an enabled channel to the rule",
    ]
