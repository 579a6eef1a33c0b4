"""`vorhoelle selftest` against the sandbox GitLab and the bot over real HTTP.

The sandbox is meant to behave as GitLab does, so every check passes there; the tests that take
one behaviour away (no hook, the bot's API closed, no second person) show that each check can
fail, or says plainly what it could not check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.cli import main
from bot.gitlab_access import GitLabAccess
from bot.sandbox.control import SandboxControl
from bot.selftest import Check, run_selftest
from tests.support.bot import TEST_RETRIES
from tests.support.botserver import RunningBot, install_hook_for, running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import World, new_world

API_TOKEN = "made-up-api-token"


@pytest.fixture
def owned(sandbox) -> World:
    """A world whose bot user owns the project (it may delete the scratch issue)."""
    return new_world(sandbox, bot_access=50)


@pytest.fixture
def bot(owned: World) -> Iterator[RunningBot]:
    with running_bot(served_bot_settings(owned, api_token=API_TOKEN)) as running:
        yield running


def selftest(world: World, bot: RunningBot | None, *, reviewer: bool = True, api: bool = True) -> dict[str, Check]:
    """The checks by name (where one name has two lines, the last)."""
    return {check.name: check for check in selftest_checks(world, bot, reviewer=reviewer, api=api)}


def selftest_checks(world: World, bot: RunningBot | None, *, reviewer: bool = True, api: bool = True) -> list[Check]:
    settings = served_bot_settings(world, public_url=bot.url if bot else None, api_token=API_TOKEN)
    gitlab = GitLabAccess.from_settings(settings, **TEST_RETRIES)
    other = GitLabAccess(world.url, world.users["reviewer"]["token"], world.path, **TEST_RETRIES) if reviewer else None
    client = httpx.Client(base_url=bot.url, headers={"Authorization": f"Bearer {API_TOKEN}"}) if bot and api else None
    return run_selftest(settings, gitlab, reviewer=other, bot_api=client)


def levels(checks: dict[str, Check]) -> dict[str, str]:
    return {name: check.level for name, check in checks.items()}


def test_the_sandbox_behaves_as_the_bot_needs_and_nothing_is_left_behind(owned, bot):
    install_hook_for(bot, owned)
    labels_before = {label.name for label in owned.project("maintainer").labels.list(get_all=True)}
    checks = selftest(owned, bot)
    assert set(levels(checks).values()) == {"ok"}, "\n".join(map(str, checks.values()))
    assert list(checks) == ["gitlab", "token", "role", "labels", "issue", "description_edits", "label_events",
                            "approve", "reject",
                            "quick_actions", "internal_notes", "award_emoji", "todos", "webhook",
                            "repository_files", "clean_up"]
    assert "token matched, Idempotency-Key present" in checks["webhook"].text
    left = owned.project("maintainer").issues.list(get_all=True, state="all",
                                                   query_parameters={"not[labels]": "vorhoelle/status"})
    assert left == []  # the bot's own status issue (bot/status_issue.py) is not the selftest's
    labels_after = {label.name for label in owned.project("maintainer").labels.list(get_all=True)}
    assert labels_after - {"vorhoelle/status"} == labels_before - {"vorhoelle/status"}
    assert owned.clients["reviewer"].todos.list(get_all=True) == []     # the reviewer's to-dos marked done


def received(bot: RunningBot, **query: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{bot.url}/api/v1/selftest/deliveries", params=query,
                       headers={"Authorization": f"Bearer {API_TOKEN}"})
    return answer.json()["deliveries"]


def test_the_bot_reports_what_it_received(owned, bot):
    hook_id = install_hook_for(bot, owned)
    owned.project("bot").issues.create({"title": "anything"})
    # at least this issue's delivery; the bot's status issue may have one of its own
    wait_until(lambda: received(bot), message="the issue's own delivery")
    httpx.post(f"{owned.url}/api/v4/projects/{owned.project_id}/hooks/{hook_id}/test/issue_hooks",
               headers={"PRIVATE-TOKEN": owned.users["maintainer"]["token"]}).raise_for_status()
    logged = owned.clients["maintainer"].http_get(f"/projects/{owned.project_id}/hooks/{hook_id}/events")[0]  # newest
    (receipt,) = received(bot, webhook_uuid=logged["request_headers"]["X-Gitlab-Webhook-UUID"])
    assert receipt["event"] == "Issue Hook" and receipt["token"] == "matched" and receipt["idempotency_key"]
    assert receipt["user_agent"].startswith("GitLab/") and receipt["status"] == 202
    assert httpx.get(f"{bot.url}/api/v1/selftest/deliveries").status_code == 401


def test_a_wrong_webhook_token_is_reported_as_such(owned, bot):
    httpx.post(f"{bot.url}/webhook", headers={"X-Gitlab-Token": "nope", "X-Gitlab-Event": "Issue Hook"}, json={})
    (receipt,) = received(bot)
    assert (receipt["token"], receipt["status"]) == ("wrong", 401)


def test_a_missing_hook_is_a_missing_need(owned, bot):
    checks = selftest(owned, bot)
    assert checks["webhook"].level == "error" and "vorhoelle hook install" in checks["webhook"].text
    assert checks["clean_up"].level == "ok"


def test_what_cannot_be_checked_is_said_plainly(owned, bot):
    install_hook_for(bot, owned)
    checks = selftest(owned, bot, reviewer=False, api=False)
    assert checks["todos"].level == "skipped" and "--reviewer-token" in checks["todos"].text
    assert checks["webhook"].level == "ok" and "set api_token" in checks["webhook"].text
    no_url = selftest(owned, None)
    assert no_url["webhook"].level == "skipped" and "public_url" in no_url["webhook"].text


def test_a_maintainer_bot_closes_the_scratch_issue_it_may_not_delete(sandbox):
    world = new_world(sandbox, bot_access=40)
    checks = selftest(world, None)
    assert checks["clean_up"].level == "warning" and "closed, not deleted" in checks["clean_up"].text
    (left,) = world.project("maintainer").issues.list(get_all=True, state="all")
    assert left.state == "closed" and left.labels == []


def test_a_guest_bot_stops_at_its_role(sandbox):
    world = new_world(sandbox, bot_access=10)
    checks = selftest(world, None)
    assert checks["role"].level == "error" and "labels" not in checks
    assert world.project("maintainer").issues.list(get_all=True, state="all") == []


@pytest.fixture
def cli_env(owned: World, bot: RunningBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> World:
    monkeypatch.chdir(tmp_path)
    for name, value in {"GITLAB_URL": owned.url, "GITLAB_TOKEN": owned.users["bot"]["token"],
                        "PROJECT": str(owned.project_id), "PUBLIC_URL": bot.url, "API_TOKEN": API_TOKEN,
                        "SELFTEST_REVIEWER_TOKEN": owned.users["reviewer"]["token"]}.items():
        monkeypatch.setenv(f"VORHOELLE_{name}", value)
    monkeypatch.delenv("VORHOELLE_CONFIG", raising=False)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    return owned


def test_the_command_prints_one_line_per_check_and_exits_1_when_a_need_is_missing(cli_env, bot, capsys):
    assert main(["selftest"]) == 1        # no hook installed yet
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 17 and lines[-1] == "1 needed behaviour missing"
    assert any(line.startswith("✗ webhook: no project hook sends to") for line in lines)
    install_hook_for(bot, cli_env)
    assert main(["selftest", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True and {c["level"] for c in document["checks"]} == {"ok"}


@pytest.mark.parametrize(("version", "warned"), [("17.4.2-ee", True), ("17.11.1-ee", False), ("nightly", False)])
def test_a_gitlab_before_emoji_hooks_is_said_to_be_covered_by_catch_up(owned, monkeypatch, version, warned):
    monkeypatch.setattr(GitLabAccess, "version", lambda self: {"version": version})
    gitlab_lines = [c for c in run_selftest(served_bot_settings(owned), GitLabAccess.from_settings(
        served_bot_settings(owned), **TEST_RETRIES)) if c.name == "gitlab"]
    assert [c.level for c in gitlab_lines] == (["ok", "warning"] if warned else ["ok"])


def test_a_hook_without_an_event_the_bot_reads_is_a_warning(owned, bot):
    hook_id = install_hook_for(bot, owned)
    GitLabAccess(owned.url, owned.users["maintainer"]["token"], owned.path).update_hook(hook_id, emoji_events=False)
    (first, second) = [c for c in selftest_checks(owned, bot) if c.name == "webhook"]
    assert first.level == "warning" and "emoji_events" in first.text
    assert second.level == "ok"


def test_a_wrong_api_token_is_said_not_a_traceback(owned, bot):
    install_hook_for(bot, owned)
    settings = served_bot_settings(owned, public_url=bot.url)
    client = httpx.Client(base_url=bot.url, headers={"Authorization": "Bearer not-the-token"})
    checks = run_selftest(settings, GitLabAccess.from_settings(settings, **TEST_RETRIES), bot_api=client)
    (webhook,) = [c for c in checks if c.name == "webhook"]
    assert webhook.level == "warning" and "(401)" in webhook.text


def test_missing_settings_are_one_line(cli_env, monkeypatch, capsys):
    monkeypatch.delenv("VORHOELLE_PROJECT")
    assert main(["selftest"]) == 2
    assert capsys.readouterr().err.strip() == "vorhoelle selftest: settings lack project (VORHOELLE_PROJECT)"


def test_gitlab_failing_one_check_is_that_checks_line_and_the_rest_still_runs(sandbox, owned):
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.faults(error_rate=1.0, statuses={"500": 1}, paths=["*/award_emoji*"])
        try:
            checks = selftest(owned, None)
        finally:
            control.faults()
    assert checks["award_emoji"].level == "error" and "GitLab answered 500" in checks["award_emoji"].text
    assert checks["repository_files"].level == "ok" and checks["clean_up"].level == "ok"
    left = owned.project("maintainer").issues.list(get_all=True, state="all",
                                                   query_parameters={"not[labels]": "vorhoelle/status"})
    assert left == []  # the bot's own status issue (bot/status_issue.py) is not the selftest's


def test_a_gitlab_that_records_no_description_editor_is_told_what_send_then_cannot_see(owned, monkeypatch):
    every_note = GitLabAccess.notes
    monkeypatch.setattr(GitLabAccess, "notes", lambda self, iid: [n for n in every_note(self, iid) if not n.get("system")])
    settings = served_bot_settings(owned)
    (check,) = [c for c in run_selftest(settings, GitLabAccess.from_settings(settings, **TEST_RETRIES))
                if c.name == "description_edits"]
    assert check.level == "warning" and "would mail it without asking" in check.text
