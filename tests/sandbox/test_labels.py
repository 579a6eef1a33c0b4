"""Project labels through python-gitlab: create, 409, colours, URL-encoded names, rename, delete."""

from __future__ import annotations

import gitlab
import pytest


def test_create_get_by_encoded_name_and_rename(world):
    project = world.project("reporter")
    label = project.labels.create({"name": "job-match/pending", "color": "#F0AD4E", "description": "Awaiting"})
    assert (label.name, label.color, label.description) == ("job-match/pending", "#F0AD4E", "Awaiting")
    assert project.labels.get("job-match/pending").id == label.id
    assert project.labels.get(label.id).name == "job-match/pending"
    label.new_name = "job-match/waiting"
    label.save()
    assert [lb.name for lb in project.labels.list(get_all=True)] == ["job-match/waiting"]
    with pytest.raises(gitlab.GitlabGetError):
        project.labels.get("job-match/pending")


def test_duplicate_label_is_409_with_gitlab_message(world):
    project = world.project("maintainer")
    project.labels.create({"name": "dup", "color": "#000000"})
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        project.labels.create({"name": "dup", "color": "#ffffff"})
    assert caught.value.response_code == 409
    assert caught.value.error_message == "Label already exists"


def test_rename_onto_existing_name_is_409(world):
    project = world.project("maintainer")
    project.labels.create({"name": "one", "color": "#111111"})
    project.labels.create({"name": "two", "color": "#222222"})
    with pytest.raises(gitlab.GitlabUpdateError) as caught:
        project.labels.update("one", {"new_name": "two"})
    assert caught.value.response_code == 409


def test_bad_colour_is_422(world):
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        world.project("maintainer").labels.create({"name": "bad", "color": "not-a-colour"})
    assert caught.value.response_code == 422


def test_guest_cannot_manage_labels(world):
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        world.project("guest").labels.create({"name": "nope", "color": "#123456"})
    assert caught.value.response_code == 403
    assert world.project("guest").labels.list() == []


def test_delete_label_removes_it_from_issues(world):
    project = world.project("maintainer")
    issue = project.issues.create({"title": "t", "labels": "gone,kept"})
    project.labels.delete("gone")
    assert project.issues.get(issue.iid).labels == ["kept"]


def test_unknown_label_on_issue_is_created(world):
    project = world.project("reporter")
    project.issues.create({"title": "t", "labels": ["fresh label"]})
    assert project.labels.get("fresh label").color == "#6699cc"
