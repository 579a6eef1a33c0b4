"""Issues through python-gitlab: create, update (labels, state, assignees), filters, pagination."""

from __future__ import annotations

from datetime import datetime, timedelta

import gitlab
import httpx
import pytest


def test_create_issue_shape(world):
    project = world.project("bot")
    issue = project.issues.create(
        {"title": "ACME - Backend", "description": "Score 0.9", "labels": "job-match,job-match/pending"}
    )
    assert issue.iid == 1 and issue.state == "opened"
    assert issue.labels == ["job-match", "job-match/pending"]
    assert issue.author["username"] == world.users["bot"]["username"]
    assert issue.web_url == f"{world.web_url}/-/issues/1"
    assert issue.references["full"] == f"{world.path}#1"
    assert issue.created_at.endswith("Z") and "." in issue.created_at
    for key in ("id", "project_id", "assignees", "closed_at", "confidential", "user_notes_count"):
        assert key in issue.attributes


def test_add_and_remove_labels_in_one_call_and_updated_at_moves(world):
    project = world.project("bot")
    issue = project.issues.create({"title": "t", "labels": "job-match/pending"})
    before = issue.updated_at
    project.issues.update(issue.iid, {"add_labels": "job-match/approved", "remove_labels": "job-match/pending"})
    after = project.issues.get(issue.iid)
    assert after.labels == ["job-match/approved"]
    assert after.updated_at > before
    events = [(e.action, e.label["name"]) for e in after.resourcelabelevents.list(get_all=True)]
    assert events == [("add", "job-match/pending"), ("remove", "job-match/pending"), ("add", "job-match/approved")]


def test_labels_as_json_array_replace_and_state_events(world):
    project = world.project("reviewer")
    issue = project.issues.create({"title": "t", "labels": ["a", "b"]})
    issue.labels = ["c"]
    issue.save()
    assert project.issues.get(issue.iid).labels == ["c"]
    issue.state_event = "close"
    issue.save()
    closed = project.issues.get(issue.iid)
    assert closed.state == "closed" and closed.closed_at and closed.attributes["closed_by"]["id"] == world.users["reviewer"]["id"]
    project.issues.update(issue.iid, {"state_event": "reopen"})
    assert project.issues.get(issue.iid).state == "opened"


def test_assignees_confidential_and_participants(world):
    project = world.project("maintainer")
    reviewer = world.users["reviewer"]
    issue = project.issues.create({"title": "t", "assignee_ids": [reviewer["id"]], "confidential": True})
    assert [a["id"] for a in issue.assignees] == [reviewer["id"]] and issue.confidential
    assert issue.assignee["username"] == reviewer["username"]
    with pytest.raises(gitlab.GitlabGetError):
        world.project("guest").issues.get(issue.iid)
    people = [p["id"] for p in project.issues.get(issue.iid).participants()]
    assert people == [world.users["maintainer"]["id"], reviewer["id"]]


def test_guest_labels_are_dropped_and_guest_cannot_edit_others_issues(world):
    guest = world.project("guest")
    own = guest.issues.create({"title": "mine", "labels": "job-match/approved"})
    assert own.labels == []
    other = world.project("bot").issues.create({"title": "bot's"})
    with pytest.raises(gitlab.GitlabUpdateError) as caught:
        guest.issues.update(other.iid, {"add_labels": "x"})
    assert caught.value.response_code == 403
    guest.issues.update(own.iid, {"add_labels": "x", "title": "renamed"})
    mine = guest.issues.get(own.iid)
    assert (mine.title, mine.labels) == ("renamed", [])


def test_title_and_description_limits(sandbox, world):
    project = world.project("bot")
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        project.issues.create({"title": "x" * 256})
    assert caught.value.response_code == 422
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        project.issues.create({"title": "t", "description": "x" * 1_048_577})
    assert caught.value.response_code == 422
    answer = httpx.post(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues",
        headers={"PRIVATE-TOKEN": world.users["bot"]["token"]},
        json={"description": "no title"},
    )
    assert (answer.status_code, answer.json()) == (400, {"error": "title is missing"})
    assert project.issues.list() == []


def test_missing_issue_is_404_issue_not_found(world):
    with pytest.raises(gitlab.GitlabGetError) as caught:
        world.project("bot").issues.get(999)
    assert caught.value.error_message == "404 Issue Not Found"


def test_filters(world):
    project = world.project("maintainer")
    reviewer = world.users["reviewer"]["id"]
    a = project.issues.create({"title": "alpha job", "labels": "x,y", "assignee_ids": [reviewer]})
    b = project.issues.create({"title": "beta", "description": "a JOB here", "labels": "x"})
    c = project.issues.create({"title": "gamma"})
    project.issues.update(c.iid, {"state_event": "close"})

    def iids(**filters):
        return sorted(i.iid for i in project.issues.list(get_all=True, **filters))

    assert iids(state="opened") == [a.iid, b.iid]
    assert iids(state="closed") == [c.iid]
    assert iids(labels="x,y") == [a.iid]
    assert iids(labels="x") == [a.iid, b.iid]
    assert iids(labels="None") == [c.iid]
    assert iids(labels="Any") == [a.iid, b.iid]
    assert iids(**{"not[labels]": "y"}) == [b.iid, c.iid]
    assert iids(iids=[a.iid, c.iid]) == [a.iid, c.iid]
    assert iids(search="job") == [a.iid, b.iid]
    assert iids(assignee_id=reviewer) == [a.iid]
    assert iids(assignee_id="None") == [b.iid, c.iid]
    assert iids(author_id=world.users["maintainer"]["id"]) == [a.iid, b.iid, c.iid]
    b_updated = project.issues.get(b.iid).updated_at
    assert iids(updated_after=b_updated) == [b.iid, c.iid]
    assert iids(updated_before=b_updated) == [a.iid, b.iid]
    assert iids(created_after=project.issues.get(b.iid).created_at) == [b.iid, c.iid]
    ordered = [i.iid for i in project.issues.list(order_by="updated_at", sort="asc", get_all=True)]
    assert ordered == [a.iid, b.iid, c.iid]
    assert [i.iid for i in project.issues.list(get_all=True)] == [c.iid, b.iid, a.iid]


def test_updated_after_with_offset_timezone(world):
    project = world.project("bot")
    issue = project.issues.create({"title": "t"})
    moment = datetime.fromisoformat(issue.updated_at.replace("Z", "+00:00")) - timedelta(microseconds=1)
    as_berlin = moment.astimezone().isoformat()
    assert [i.iid for i in project.issues.list(updated_after=as_berlin)] == [issue.iid]
    with pytest.raises(gitlab.GitlabListError) as caught:
        project.issues.list(updated_after="not a date")
    assert caught.value.response_code == 400


def test_pagination_headers_and_links(sandbox, world):
    project = world.project("bot")
    for n in range(5):
        project.issues.create({"title": f"issue {n}"})
    answer = httpx.get(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues",
        params={"per_page": 2, "page": 2},
        headers={"PRIVATE-TOKEN": world.users["bot"]["token"]},
    )
    headers = answer.headers
    assert (headers["x-page"], headers["x-per-page"], headers["x-next-page"], headers["x-prev-page"]) == ("2", "2", "3", "1")
    assert (headers["x-total"], headers["x-total-pages"]) == ("5", "3")
    assert 'rel="next"' in headers["link"] and 'rel="prev"' in headers["link"]
    assert len(answer.json()) == 2
    lazy = project.issues.list(iterator=True, per_page=2)
    assert len(lazy) == 5 and len(list(lazy)) == 5
    big = httpx.get(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues",
        params={"per_page": 1000},
        headers={"PRIVATE-TOKEN": world.users["bot"]["token"]},
    )
    assert big.headers["x-per-page"] == "100"


def test_instance_wide_issues_default_to_my_own(world):
    bot = world.clients["bot"]
    mine = world.project("bot").issues.create({"title": "mine"})
    world.project("reviewer").issues.create({"title": "theirs"})
    assert [i.id for i in bot.issues.list(get_all=True)] == [mine.id]
    assert len(bot.issues.list(scope="all", get_all=True)) == 2


def test_delete_needs_owner(world):
    issue = world.project("bot").issues.create({"title": "t"})
    with pytest.raises(gitlab.GitlabDeleteError) as caught:
        world.project("maintainer").issues.delete(issue.iid)
    assert caught.value.response_code == 403
    world.admin.projects.get(world.project_id, lazy=True).issues.delete(issue.iid)
    with pytest.raises(gitlab.GitlabGetError):
        world.project("bot").issues.get(issue.iid)


def test_participants_include_mentioned_users_who_can_see_the_issue(world):
    users = world.users
    project = world.project("maintainer")
    issue = project.issues.create(
        {"title": "t", "description": f"cc @{users['reviewer']['username']}, not `@{users['bot']['username']}`"}
    )
    issue.notes.create({"body": f"@{users['guest']['username']} and @nobody-{world.project_id} please look"})
    secret = project.issues.create(
        {"title": "s", "confidential": True, "description": f"@{users['guest']['username']} @{users['reporter']['username']}"}
    )
    people = [p["id"] for p in project.issues.get(issue.iid).participants()]
    assert people == [users["maintainer"]["id"], users["reviewer"]["id"], users["guest"]["id"]]
    hidden = [p["id"] for p in project.issues.get(secret.iid).participants()]
    assert hidden == [users["maintainer"]["id"], users["reporter"]["id"]]
