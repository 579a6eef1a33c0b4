"""The sandbox's repository files API, driven by python-gitlab as the bot would drive GitLab."""

from __future__ import annotations

import base64

import gitlab
import pytest

from tests.support.world import new_world


@pytest.fixture
def world(sandbox):
    return new_world(sandbox, bot_access=40)


def test_a_file_is_created_read_updated_and_listed_as_commits(world):
    project = world.project("bot")
    project.files.create(
        {"file_path": ".vorhoelle.yml", "branch": "main", "content": "staging:\n  threshold: 80\n",
         "commit_message": "Add bot settings"}
    )
    first = project.files.get(".vorhoelle.yml", ref="main")
    assert base64.b64decode(first.content).decode() == "staging:\n  threshold: 80\n"
    assert first.last_commit_id == first.commit_id

    first.content = base64.b64encode(b"staging:\n  threshold: 90\n").decode()
    first.encoding = "base64"
    first.save(branch="main", commit_message="Raise the threshold")

    second = project.files.get(".vorhoelle.yml", ref="main")
    assert second.decode() == b"staging:\n  threshold: 90\n"
    assert project.files.raw(".vorhoelle.yml", ref="main") == b"staging:\n  threshold: 90\n"
    commits = project.commits.list(ref_name="main", get_all=True)
    assert [c.title for c in commits] == ["Raise the threshold", "Add bot settings"]
    assert commits[0].parent_ids == [commits[1].id]
    assert commits[0].author_email == world.users["bot"]["username"] + "@example.com"
    assert project.commits.get(commits[1].id).message == "Add bot settings"


def test_files_in_folders_keep_their_encoded_path(world):
    project = world.project("bot")
    project.files.create({"file_path": "config/a b.yml", "branch": "main", "content": "x: 1\n",
                          "commit_message": "nested"})
    assert project.files.get("config/a b.yml", ref="main").file_name == "a b.yml"


def test_a_stale_last_commit_id_is_refused_and_changes_nothing(world):
    project = world.project("bot")
    project.files.create({"file_path": "f.yml", "branch": "main", "content": "a: 1\n", "commit_message": "one"})
    stale = project.files.get("f.yml", ref="main").last_commit_id
    project.files.update("f.yml", {"branch": "main", "content": "a: 2\n", "commit_message": "two"})
    with pytest.raises(gitlab.GitlabUpdateError) as refused:
        project.files.update(
            "f.yml", {"branch": "main", "content": "a: 3\n", "commit_message": "three", "last_commit_id": stale}
        )
    assert refused.value.response_code == 400
    assert "changed since you started editing" in str(refused.value)
    assert project.files.raw("f.yml", ref="main") == b"a: 2\n"


def test_errors_match_gitlab(world):
    project = world.project("bot")
    with pytest.raises(gitlab.GitlabGetError) as missing:
        project.files.get("nope.yml", ref="main")
    assert missing.value.response_code == 404
    project.files.create({"file_path": "f.yml", "branch": "main", "content": "a", "commit_message": "one"})
    with pytest.raises(gitlab.GitlabCreateError) as twice:
        project.files.create({"file_path": "f.yml", "branch": "main", "content": "a", "commit_message": "again"})
    assert "already exists" in str(twice.value)
    with pytest.raises(gitlab.GitlabHttpError) as no_message:  # python-gitlab itself would refuse
        world.clients["bot"].http_post(
            f"/projects/{world.project_id}/repository/files/g.yml", post_data={"branch": "main", "content": "a"}
        )
    assert no_message.value.response_code == 400
    assert "commit_message is missing" in str(no_message.value)


def test_main_is_protected_developers_read_but_cannot_push(world):
    world.project("bot").files.create({"file_path": "f.yml", "branch": "main", "content": "a", "commit_message": "one"})
    reviewer = world.project("reviewer")  # a developer
    assert reviewer.files.raw("f.yml", ref="main") == b"a"
    with pytest.raises(gitlab.GitlabUpdateError) as refused:
        reviewer.files.update("f.yml", {"branch": "main", "content": "b", "commit_message": "mine"})
    assert refused.value.response_code == 403
    with pytest.raises(gitlab.GitlabGetError) as guest:
        world.project("guest").files.get("f.yml", ref="main")
    assert guest.value.response_code == 403


def test_deleting_a_file_is_a_commit_that_removes_it(world):
    project = world.project("bot")
    project.files.create({"file_path": "f.yml", "branch": "main", "content": "a", "commit_message": "one"})
    project.files.delete(file_path="f.yml", branch="main", commit_message="Remove f")
    with pytest.raises(gitlab.GitlabGetError):
        project.files.get("f.yml", ref="main")
    assert project.commits.list(get_all=True)[0].title == "Remove f"
