"""Award emoji, to-dos (automatic and by hand) and uploads, through python-gitlab."""

from __future__ import annotations

import json

import gitlab
import httpx
import pytest

from bot.sandbox import start_in_thread
from tests.support.waiting import wait_until
from tests.support.world import new_world


def test_awards_on_issue_and_note(world):
    issue = world.project("bot").issues.create({"title": "t"})
    view = world.project("guest").issues.get(issue.iid, lazy=True)
    award = view.awardemojis.create({"name": "thumbsup"})
    assert (award.name, award.user["username"], award.awardable_type) == ("thumbsup", world.users["guest"]["username"], "Issue")
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        view.awardemojis.create({"name": "thumbsup"})
    assert caught.value.response_code == 409
    assert world.project("bot").issues.get(issue.iid).upvotes == 1
    with pytest.raises(gitlab.GitlabDeleteError) as caught:
        world.project("maintainer").issues.get(issue.iid, lazy=True).awardemojis.delete(award.id)
    assert caught.value.response_code == 403
    view.awardemojis.delete(award.id)
    assert view.awardemojis.list() == []
    note = issue.notes.create({"body": "comment"})
    on_note = view.notes.get(note.id).awardemojis.create({"name": "eyes"})
    assert on_note.awardable_type == "Note" and on_note.awardable_id == note.id


def pending(world, role, **filters):
    return world.clients[role].todos.list(get_all=True, **filters)


def test_assignment_and_mentions_make_todos(world):
    reviewer, reporter = world.users["reviewer"], world.users["reporter"]
    project = world.project("bot")
    issue = project.issues.create({"title": "t", "assignee_ids": [reviewer["id"]]})
    assert [(t.action_name, t.target["iid"]) for t in pending(world, "reviewer")] == [("assigned", issue.iid)]
    issue.notes.create({"body": f"ping @{reporter['username']} and @nobody-here"})
    todos = pending(world, "reporter", action="mentioned")
    assert len(todos) == 1 and todos[0].author["username"] == world.users["bot"]["username"]
    issue.notes.create({"body": f"`@{reporter['username']}` in code is no mention"})
    assert len(pending(world, "reporter")) == 1
    issue.notes.create({"body": f"@{world.users['bot']['username']} myself"})
    assert pending(world, "bot") == []


@pytest.mark.parametrize("act", ["label", "comment", "emoji", "close"])
def test_acting_on_an_issue_marks_ones_own_todos_on_it_done_and_nobody_elses(world, act):
    reviewer, maintainer = world.users["reviewer"], world.users["maintainer"]
    issue = world.project("bot").issues.create(
        {"title": "t", "assignee_ids": [reviewer["id"]], "description": f"cc @{maintainer['username']}"})
    other = world.project("bot").issues.create({"title": "u", "assignee_ids": [reviewer["id"]]})
    mine = world.project("reviewer").issues.get(issue.iid, lazy=True)
    {"label": lambda: world.project("reviewer").issues.update(issue.iid, {"add_labels": "x"}),
     "comment": lambda: mine.notes.create({"body": "looking"}),
     "emoji": lambda: mine.awardemojis.create({"name": "thumbsup"}),
     "close": lambda: world.project("reviewer").issues.update(issue.iid, {"state_event": "close"})}[act]()

    assert [t.target["iid"] for t in pending(world, "reviewer")] == [other.iid]
    assert [t.target["iid"] for t in pending(world, "reviewer", state="done")] == [issue.iid]
    assert [t.target["iid"] for t in pending(world, "maintainer")] == [issue.iid]


def test_all_mentions_every_member_but_the_author(world):
    world.project("bot").issues.create({"title": "t", "description": "hello @all"})
    for role in ("reviewer", "maintainer", "reporter", "guest"):
        assert len(pending(world, role)) == 1, role
    assert pending(world, "bot") == []


def test_todo_by_hand_304_and_mark_done(sandbox, world):
    issue = world.project("bot").issues.create({"title": "t"})
    url = f"{sandbox.url}/api/v4/projects/{world.project_id}/issues/{issue.iid}/todo"
    headers = {"PRIVATE-TOKEN": world.users["reviewer"]["token"]}
    first = httpx.post(url, headers=headers)
    assert first.status_code == 201 and first.json()["action_name"] == "marked"
    assert httpx.post(url, headers=headers).status_code == 304
    todo = pending(world, "reviewer")[0]
    todo.mark_as_done()
    assert pending(world, "reviewer") == []
    assert len(pending(world, "reviewer", state="done")) == 1
    httpx.post(url, headers=headers)
    world.clients["reviewer"].todos.mark_all_as_done()
    assert pending(world, "reviewer") == []


def test_done_quick_action_along_with_a_change(world):
    """`/done` beside a change: the change does the to-do first, and `/done` finds none left
    (this answered 500 before)."""
    issue = world.project("bot").issues.create({"title": "t"})
    issue.notes.create({"body": "/todo"})
    assert len(pending(world, "bot")) == 1
    issue.notes.create({"body": "/done\n/title renamed"})
    assert pending(world, "bot") == []
    assert world.project("bot").issues.get(issue.iid).title == "renamed"


def test_upload_and_download(sandbox, world):
    project = world.project("reporter")
    uploaded = project.upload("cv.png", filedata=b"\x89PNG fake image")
    assert uploaded["markdown"] == f"![cv]({uploaded['url']})"
    headers = {"PRIVATE-TOKEN": world.users["guest"]["token"]}
    by_web = httpx.get(f"{world.web_url}{uploaded['url']}", headers=headers)
    assert by_web.status_code == 200 and by_web.content == b"\x89PNG fake image"
    assert by_web.headers["content-type"] == "image/png"
    raw = httpx.post(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/uploads",
        headers=headers,
        files={"file": ("notes.txt", b"plain")},
    ).json()
    assert set(raw) == {"id", "alt", "url", "full_path", "markdown"}
    assert raw["markdown"] == f"[notes.txt]({raw['url']})"
    assert httpx.get(f"{sandbox.url}{raw['full_path']}", headers=headers).content == b"plain"
    assert httpx.get(f"{world.web_url}{raw['url']}").status_code == 404


@pytest.mark.parametrize("how", ["delete", "edit into commands"])
def test_a_deleted_comment_takes_its_award_emoji_along(tmp_path, how):
    """Only the state file shows leftovers: a deleted comment's awards are unreachable by API."""
    state = tmp_path / "sandbox.json"
    running = start_in_thread(state_file=str(state))
    try:
        world = new_world(running)
        issue = world.project("bot").issues.create({"title": "t"})
        issue.awardemojis.create({"name": "eyes"})
        kept = issue.notes.create({"body": "stays"})
        kept.awardemojis.create({"name": "thumbsup"})
        doomed = issue.notes.create({"body": "goes"})
        doomed_id = doomed.id
        world.project("guest").issues.get(issue.iid, lazy=True).notes.get(doomed_id).awardemojis.create(
            {"name": "thumbsdown"}
        )
        if how == "delete":
            doomed.delete()
        else:
            doomed.body = "/award :tada:"
            doomed.save()
        saved = lambda: json.loads(state.read_text())["tables"]  # noqa: E731 (written after the response)
        wait_until(lambda: doomed_id not in [n["id"] for n in saved()["notes"]], message="note deletion saved")
        awards = saved()["awards"]
        expected = [("Issue", issue.id, "eyes"), ("Note", kept.id, "thumbsup")]
        if how != "delete":
            expected.append(("Issue", issue.id, "tada"))
        assert sorted((a["awardable_type"], a["awardable_id"], a["name"]) for a in awards) == sorted(expected)
    finally:
        running.stop()
