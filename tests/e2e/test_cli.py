"""`vorhoelle hook install|status` and `vorhoelle catch-up` as separate processes."""

from __future__ import annotations

import re

from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment, by_label
from tests.support.botserver import run_vorhoelle, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import new_world

WANTED = ["issues_events", "note_events", "confidential_issues_events", "confidential_note_events",
          "emoji_events", "push_events"]
DEAD_URL = "http://127.0.0.1:9/webhook"  # the discard port: nothing listens there


def test_hook_install_updates_the_hook_with_that_url_and_creates_others(sandbox, tmp_path):
    world = new_world(sandbox, bot_access=40)  # managing hooks needs the maintainer role
    project = world.project("maintainer")
    widened = project.hooks.create({"url": DEAD_URL, "merge_requests_events": True, "issues_events": False})
    settings = served_bot_settings(world)

    updated = run_vorhoelle(settings, "hook", "install", "--url", DEAD_URL, cwd=tmp_path)
    created = run_vorhoelle(settings, "hook", "install", "--url", "http://127.0.0.1:10/webhook", cwd=tmp_path)

    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith(f"updated hook {widened.id} on {world.project_id}:")
    assert created.returncode == 0 and created.stdout.startswith("created hook ")
    hooks = {hook.url: hook for hook in project.hooks.list(get_all=True)}
    assert len(hooks) == 2
    again = hooks[DEAD_URL]
    assert all(getattr(again, name) for name in WANTED) and not again.merge_requests_events


def test_hook_install_without_the_maintainer_role_says_so(world, tmp_path):
    answer = run_vorhoelle(served_bot_settings(world), "hook", "install", "--url", DEAD_URL, cwd=tmp_path)
    assert answer.returncode == 1
    assert "403" in answer.stderr and "managing hooks needs the maintainer role" in answer.stderr


def test_hook_status_shows_when_gitlab_disabled_the_hook_and_why(sandbox, tmp_path):
    world = new_world(sandbox, bot_access=40)
    settings = served_bot_settings(world)
    run_vorhoelle(settings, "hook", "install", "--url", DEAD_URL, cwd=tmp_path)
    healthy = run_vorhoelle(settings, "hook", "status", "--url", DEAD_URL, cwd=tmp_path)
    assert healthy.returncode == 0 and "state:  executable" in healthy.stdout

    issue = world.project("reviewer").issues.create({"title": "Anything"})
    for n in range(4):  # four failed deliveries in a row disable a hook for a while
        issue.notes.create({"body": f"comment {n}"})
    hook = world.project("maintainer").hooks.list(get_all=True)[0]
    wait_until(lambda: world.project("maintainer").hooks.get(hook.id).alert_status == "temporarily_disabled",
               message="GitLab to disable the hook")

    status = run_vorhoelle(settings, "hook", "status", "--url", DEAD_URL, cwd=tmp_path)
    assert status.returncode == 1
    assert re.search(r"state:  temporarily_disabled until \S+", status.stdout), status.stdout
    failures = int(re.search(r"recent failed deliveries: (\d+)", status.stdout).group(1))
    assert failures >= 4
    assert "events: issues, note, confidential_issues, confidential_note, emoji, push" in status.stdout


def test_catch_up_converges_what_changed_and_prints_a_summary(sandbox, world, tmp_path):
    scene = Scene(sandbox, world)
    approved, rejected, untouched = scene.stage("Role A"), scene.stage("Role B"), scene.stage("Role C")
    by_label(scene, approved)
    by_comment("/reject too far away")(scene, rejected)
    settings = served_bot_settings(world)

    first = run_vorhoelle(settings, "catch-up", "--since", "1h", cwd=tmp_path)
    again = run_vorhoelle(settings, "catch-up", "--since", "1h", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert f"#{approved}: state approved after 2 writes" in first.stdout
    assert f"#{rejected}: state rejected after 2 writes" in first.stdout
    assert f"#{untouched}: nothing owed, state pending" in first.stdout
    summary, watermark = first.stdout.rstrip().splitlines()[-2:]
    assert summary.startswith("3 issues converged since ") and watermark.startswith("watermark: ")
    assert again.returncode == 0 and again.stdout.count("nothing owed") == 3
    assert [len(scene.history(iid)) for iid in (approved, rejected, untouched)] == [1, 1, 0]


def test_catch_up_refuses_a_time_it_cannot_read(world, tmp_path):
    answer = run_vorhoelle(served_bot_settings(world), "catch-up", "--since", "last tuesday", cwd=tmp_path)
    assert answer.returncode == 2
    assert "cannot read 'last tuesday' as a time: give 7d, 3h, 30m or an ISO 8601 time" in answer.stderr
