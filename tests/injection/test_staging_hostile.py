"""Hostile values in every field of a match, staged through the API into the sandbox GitLab.

Afterwards GitLab must show that nothing acted: every issue open, labels and assignee exactly
as staging set them, the title as the bot wrote it, no system note (no command ran), no to-do
but the reviewer's assignments, no marker but the bot's own, and the words still on the page.
A converge over every issue must find nothing to do (a forged marker would change that).
"""

from __future__ import annotations

import base64
import html
import json
import re

import pytest

from bot.converge import converge_issue
from bot.gitlab_access import GitLabAccess
from bot.markers import parse_markers
from bot.staging.match import parse_matches
from bot.runtime import Runtime, build_runtime
from bot.sandbox.quick_actions import extract_quick_actions, find_mentions
from bot.staging.description import issue_title
from tests.injection.hostile import HOSTILE, for_world
from tests.staging.conftest import api_client, settings_for
from tests.support.botserver import running_bot

EXPECTED_LABELS = {"job-match", "job-match/pending", "match-score/medium"}


def hostile_match(value: str, n: int) -> dict:
    """`value` in every field, cut where the model limits a field's length."""
    return {
        "title": value,
        "score": 80,
        "provider": value,
        "location": value,
        "remote": value,
        "start": value,
        "duration": value,
        "rate": {"amount": 90, "currency": value[:10], "unit": value[:20]},
        "url": value,
        "contact": {"name": value[:500], "email": value[:500]},
        "requirements": [{"requirement": value, "weight": 1, "met": "partial", "comment": value}],
        "notes": value,
        "draft": value,
        "skills": [value, "python"],
        "cycle_id": value[:200],
        "attachments": [{"name": value[:255], "content": base64.b64encode(b"inert file").decode()}],
        f"extra {n} {value[:40]}": value,
    }


@pytest.fixture(scope="module")
def staged(sandbox):
    """One world, one cycle of every hostile match, staged once for all the checks below."""
    from tests.support.world import new_world

    world = new_world(sandbox)
    settings = settings_for(world, server={"max_body_bytes": 256 * 1024 * 1024})
    cycle = [hostile_match(for_world(value, world.users), n) for n, value in enumerate(HOSTILE)]
    runtime = build_runtime(settings)
    runtime.notifier = None  # its delivery notes are not what this suite is about
    with running_bot(settings, runtime=runtime) as bot, api_client(bot) as api:
        # ensure_ascii: a lone surrogate travels as `\ud800`, valid JSON that no UTF-8 can hold
        answer = api.post("/matches", content=json.dumps(cycle).encode(),
                          headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text[:2000]
    results = answer.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * len(HOSTILE)
    issues = [world.project("maintainer").issues.get(r["iid"]) for r in results]
    return world, settings, cycle, issues


def test_at_least_forty_hostile_values():
    assert len(HOSTILE) >= 40


def test_no_command_ran(staged):
    world, _, _, issues = staged
    for issue in issues:
        assert issue.state == "opened", issue.iid
        assert set(issue.labels) == EXPECTED_LABELS, issue.iid
        assert [a["username"] for a in issue.assignees] == [world.users["reviewer"]["username"]]
        assert not issue.confidential and not issue.discussion_locked
        assert issue.notes.list(get_all=True) == [], issue.iid  # no system note: nothing happened
        assert issue.awardemojis.list(get_all=True) == []


def test_titles_are_as_the_bot_wrote_them(staged):
    _, settings, cycle, issues = staged
    for data, issue in zip(cycle, issues):
        [match] = parse_matches(data)
        assert issue.title == issue_title(settings, match)
        assert issue.title.startswith("[JOB-MATCH] 80% — ") and len(issue.title) <= 255


def test_no_todo_but_the_reviewers_assignments(staged):
    world, _, _, issues = staged
    for role, client in world.clients.items():
        todos = client.todos.list(get_all=True)
        if role == "reviewer":
            assert sorted(t.target["iid"] for t in todos) == sorted(i.iid for i in issues)
            assert {t.action_name for t in todos} == {"assigned"}
        else:
            assert todos == [], role
    # root is shared by every test of the session: only its to-dos from this project count
    assert [t for t in world.admin.todos.list(get_all=True) if t.project["id"] == world.project_id] == []


def test_gitlab_would_find_no_command_and_no_mention(staged):
    _, _, _, issues = staged
    for issue in issues:
        assert extract_quick_actions(issue.description).actions == [], issue.iid
        assert find_mentions(issue.description) == [], issue.iid
        assert "<script" not in issue.description.lower() and "<img" not in issue.description.lower()


def test_only_the_bots_own_marker_is_there(staged):
    _, _, cycle, issues = staged
    for data, issue in zip(cycle, issues):
        [marker] = parse_markers(issue.description)
        assert (marker.kind, marker.source) == ("match", f"match:{parse_matches(data)[0].key}")
        assert marker.data["score"] == 80


def test_links_go_only_where_they_say(staged):
    _, _, _, issues = staged
    for issue in issues:
        shown = re.sub(r"<!-- vorhoelle:.*? -->", "", issue.description)  # the marker renders as nothing
        for visible, target in re.findall(r"(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(([^)]*)\)", shown):
            assert target.startswith(("/uploads/", "http://", "https://")), (issue.iid, target)
            if not target.startswith("/uploads/"):
                assert "evil.example.net" not in target or "evil.example.net" in visible


def test_the_words_are_still_there(staged):
    _, _, _, issues = staged
    for value, issue in zip(HOSTILE, issues):
        shown = html.unescape(re.sub(r"\\(.)", r"\1", issue.description))
        assert "Kobold" in shown or all(w in shown for w in re.findall(r"[A-Za-z]{4,}", value)), issue.iid


def test_a_huge_value_is_cut_visibly(staged):
    _, _, _, issues = staged
    huge = issues[-1]
    assert "more characters\\]" in huge.description and len(huge.description) < 1_000_000


def test_a_converge_finds_nothing_to_do(staged):
    world, settings, _, issues = staged
    runtime = Runtime(settings=settings, gitlab=GitLabAccess.from_settings(settings))
    for issue in issues:
        result = converge_issue(runtime, issue.iid)
        assert result.effects == [] and result.final_state == "pending", issue.iid
