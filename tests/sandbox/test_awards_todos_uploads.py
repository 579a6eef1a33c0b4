"""Award emoji, to-dos (automatic and by hand) and uploads, through python-gitlab."""

from __future__ import annotations

import gitlab
import httpx
import pytest


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
