"""Comments, discussions and quick actions through python-gitlab, as GitLab treats them."""

from __future__ import annotations

import gitlab
import httpx
import pytest


def new_issue(world, role="bot", **extra):
    return world.project(role).issues.create({"title": "t", **extra})


def post_note(sandbox, world, role, issue, body):
    """A raw POST, to see the status and body python-gitlab would turn into an exception."""
    return httpx.post(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues/{issue.iid}/notes",
        headers={"PRIVATE-TOKEN": world.users[role]["token"]},
        json={"body": body},
    )


def test_note_crud_sort_and_internal(world):
    issue = new_issue(world)
    mine = world.project("reviewer").issues.get(issue.iid, lazy=True)
    first = mine.notes.create({"body": "first"})
    second = mine.notes.create({"body": "second"})
    assert [n.body for n in mine.notes.list(sort="asc", get_all=True)] == ["first", "second"]
    assert [n.body for n in mine.notes.list(get_all=True)] == ["second", "first"]
    first.body = "first, edited"
    first.save()
    assert mine.notes.get(first.id).body == "first, edited"
    mine.notes.delete(second.id)
    internal = world.project("bot").issues.get(issue.iid, lazy=True).notes.create({"body": "[bot] secret", "internal": True})
    assert internal.internal and internal.confidential
    guest_view = world.project("guest").issues.get(issue.iid, lazy=True)
    assert [n.id for n in guest_view.notes.list(get_all=True)] == [first.id]
    with pytest.raises(gitlab.GitlabUpdateError) as caught:
        world.project("maintainer").issues.get(issue.iid, lazy=True).notes.update(first.id, {"body": "not mine"})
    assert caught.value.response_code == 403


def test_note_moves_issue_updated_at_and_counts(world):
    issue = new_issue(world)
    world.project("reviewer").issues.get(issue.iid, lazy=True).notes.create({"body": "hello"})
    again = world.project("bot").issues.get(issue.iid)
    assert again.updated_at > issue.updated_at and again.user_notes_count == 1


def test_note_body_limit(world):
    issue = new_issue(world)
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        issue.notes.create({"body": "x" * 1_000_001})
    assert caught.value.response_code == 422


def test_discussions(world):
    issue = new_issue(world)
    thread = issue.discussions.create({"body": "start"})
    thread.notes.create({"body": "reply"})
    issue.notes.create({"body": "plain"})
    found = issue.discussions.list(get_all=True)
    assert [[n["body"] for n in d.attributes["notes"]] for d in found] == [["start", "reply"], ["plain"]]
    assert [d.individual_note for d in found] == [False, True]
    assert issue.discussions.get(thread.id).attributes["notes"][1]["type"] == "DiscussionNote"


def test_approve_alone_is_not_saved(sandbox, world):
    issue = new_issue(world)
    answer = post_note(sandbox, world, "reviewer", issue, "/approve")
    assert answer.status_code == 400
    assert "Could not apply approve command." in answer.json()["message"]
    assert issue.notes.list() == []


def test_approve_beside_text_is_removed_and_reject_stays_verbatim(world):
    issue = world.project("reviewer").issues.get(new_issue(world).iid, lazy=True)
    assert issue.notes.create({"body": "looks good\n/approve"}).body == "looks good"
    assert issue.notes.create({"body": "/reject too junior"}).body == "/reject too junior"
    assert issue.notes.create({"body": "/accept"}).body == "/accept"


def test_label_command_alone_answers_202_and_changes_labels(sandbox, world):
    issue = new_issue(world, labels="job-match/pending")
    world.project("maintainer").labels.create({"name": "job-match/approved", "color": "#5CB85C"})
    answer = post_note(sandbox, world, "reviewer", issue, '/label ~"job-match/approved"\n/unlabel ~"job-match/pending"')
    assert answer.status_code == 202
    assert set(answer.json()) == {"commands_changes", "summary"}
    assert world.project("bot").issues.get(issue.iid).labels == ["job-match/approved"]
    assert issue.notes.list() == []
    events = world.project("bot").issues.get(issue.iid, lazy=True).resourcelabelevents.list(get_all=True)
    assert events[-1].user["username"] == world.users["reviewer"]["username"]


def test_guest_label_command_is_refused(sandbox, world):
    issue = new_issue(world)
    answer = post_note(sandbox, world, "guest", issue, "/label ~approved")
    assert answer.status_code == 400
    assert "Could not apply label command." in answer.json()["message"]
    assert world.project("bot").issues.get(issue.iid).labels == []


@pytest.mark.parametrize("command", ["/label ~nosuch", "/relabel ~nosuch", "/unlabel"])
def test_label_commands_never_create_labels_and_need_something_to_change(sandbox, world, command):
    issue = new_issue(world)
    answer = post_note(sandbox, world, "reviewer", issue, command)
    assert answer.status_code == 400
    assert f"Could not apply {command[1:].split()[0]} command." in answer.json()["message"]
    assert world.project("bot").labels.list(get_all=True) == []


def test_label_command_applies_the_labels_that_exist(sandbox, world):
    world.project("maintainer").labels.create({"name": "real", "color": "#5CB85C"})
    issue = new_issue(world)
    assert post_note(sandbox, world, "reviewer", issue, "/label ~real ~nosuch").status_code == 202
    assert world.project("bot").issues.get(issue.iid).labels == ["real"]
    assert [label.name for label in world.project("bot").labels.list(get_all=True)] == ["real"]


def test_description_quick_actions_on_create_and_update(world):
    project = world.project("bot")
    issue = project.issues.create({"title": "t", "description": "Scraped title\n/close"})
    again = project.issues.get(issue.iid)
    assert (again.state, again.description) == ("closed", "Scraped title")
    reviewer = world.users["reviewer"]
    project.issues.update(issue.iid, {"description": f"text\n/reopen\n/assign @{reviewer['username']}\n/title New"})
    again = project.issues.get(issue.iid)
    assert (again.state, again.title, again.description) == ("opened", "New", "text")
    assert [a["id"] for a in again.assignees] == [reviewer["id"]]


def test_commands_inside_code_are_kept(world):
    body = "```\n/close\n```"
    issue = new_issue(world)
    assert issue.notes.create({"body": body}).body == body
    assert world.project("bot").issues.get(issue.iid).state == "opened"


def test_award_command(world):
    issue = new_issue(world)
    reviewer_issue = world.project("reviewer").issues.get(issue.iid, lazy=True)
    reviewer_issue.notes.create({"body": "nice\n/award :thumbsup:"})
    assert [(a.name, a.user["username"]) for a in reviewer_issue.awardemojis.list()] == [
        ("thumbsup", world.users["reviewer"]["username"])
    ]


def test_editing_a_comment_into_commands_that_cannot_apply_keeps_it(sandbox, world):
    issue = world.project("reviewer").issues.get(new_issue(world).iid, lazy=True)
    note = issue.notes.create({"body": "hello"})
    answer = httpx.put(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues/{issue.iid}/notes/{note.id}",
        headers={"PRIVATE-TOKEN": world.users["reviewer"]["token"]},
        json={"body": "/approve"},
    )
    assert answer.status_code == 400
    assert "Could not apply approve command." in answer.json()["message"]
    assert [n.body for n in issue.notes.list(get_all=True)] == ["hello"]


def test_editing_a_comment_into_commands_that_ran_deletes_it(world):
    issue = world.project("reviewer").issues.get(new_issue(world).iid, lazy=True)
    note = issue.notes.create({"body": "hello"})
    issue.notes.update(note.id, {"body": "/close"})
    assert issue.notes.list(get_all=True) == []
    assert world.project("bot").issues.get(issue.iid).state == "closed"


def test_duplicate_closes_the_issue_and_links_the_original(sandbox, world):
    original, copy = new_issue(world), new_issue(world)
    answer = post_note(sandbox, world, "bot", copy, f"/duplicate #{original.iid}")
    assert answer.status_code == 202
    assert answer.json()["summary"] == [f"Closed this issue. Marked as related to, and a duplicate of, #{original.iid}."]
    closed = world.project("bot").issues.get(copy.iid)
    assert closed.state == "closed"
    assert closed._links["closed_as_duplicate_of"].endswith(f"/projects/{world.project_id}/issues/{original.iid}")
    assert world.project("bot").issues.get(original.iid)._links["closed_as_duplicate_of"] is None
    # The link goes with the original, as GitLab's foreign key nullifies it.
    world.admin.projects.get(world.project_id, lazy=True).issues.delete(original.iid)
    assert world.project("bot").issues.get(copy.iid)._links["closed_as_duplicate_of"] is None
    refused = post_note(sandbox, world, "bot", new_issue(world), "/duplicate #9999")  # no such issue
    assert refused.status_code == 400 and "Could not apply duplicate command." in refused.json()["message"]
