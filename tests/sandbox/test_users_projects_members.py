"""Users and tokens, projects by id and by path, members and access levels — via python-gitlab."""

from __future__ import annotations

import uuid

import gitlab
import httpx
import pytest

from tests.support.world import client


@pytest.fixture
def admin(sandbox):
    return client(sandbox.url, sandbox.root_token)


def make_user(admin, prefix="user"):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    user = admin.users.create({"username": name, "name": name.title(), "email": f"{name}@example.org"})
    token = user.personal_access_tokens.create({"name": "t", "scopes": ["api"]}).token
    return user, token


def test_search_finds_a_public_email_for_anyone_and_a_private_one_only_for_an_admin(sandbox, admin):
    user, token = make_user(admin, "mail")
    other, _ = make_user(admin, "other")
    shown = admin.users.get(user.id)
    shown.public_email = f"shown-{user.username}@example.org"
    shown.save()
    anyone = client(sandbox.url, token)

    assert [u.id for u in anyone.users.list(search=shown.public_email.upper())] == [user.id]
    assert anyone.users.list(search=other.email) == []
    assert [u.id for u in admin.users.list(search=other.email)] == [other.id]
    assert anyone.users.get(user.id).public_email == shown.public_email


def test_root_is_admin_with_id_1(sandbox, admin):
    admin.auth()
    assert (admin.user.id, admin.user.username, admin.user.is_admin) == (1, "root", True)


def test_admin_creates_users_and_tokens_that_work(sandbox, admin):
    user, token = make_user(admin)
    assert token.startswith("glpat-")
    me = client(sandbox.url, token)
    me.auth()
    assert me.user.id == user.id
    assert admin.users.get(user.id).username == user.username
    found = admin.users.list(username=user.username.upper())
    assert [u.id for u in found] == [user.id]


def test_bearer_token_is_accepted_and_bad_tokens_get_401(sandbox):
    ok = httpx.get(f"{sandbox.url}/api/v4/user", headers={"Authorization": f"Bearer {sandbox.root_token}"})
    assert ok.status_code == 200 and ok.json()["username"] == "root"
    bad = httpx.get(f"{sandbox.url}/api/v4/user", headers={"PRIVATE-TOKEN": "glpat-wrong"})
    assert (bad.status_code, bad.json()) == (401, {"message": "401 Unauthorized"})
    none = httpx.get(f"{sandbox.url}/api/v4/projects")
    assert none.status_code == 401
    with pytest.raises(gitlab.GitlabAuthenticationError):
        client(sandbox.url, "glpat-nope").auth()


def test_only_admins_create_users(sandbox, admin):
    _, token = make_user(admin)
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        client(sandbox.url, token).users.create({"username": "x1", "name": "X", "email": "x1@example.org"})
    assert caught.value.response_code == 403


def test_duplicate_username_is_a_conflict(sandbox, admin):
    user, _ = make_user(admin)
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        admin.users.create({"username": user.username, "name": "Y", "email": "other@example.org"})
    assert caught.value.response_code == 409


def test_missing_required_param_is_400_with_error(sandbox):
    answer = httpx.post(
        f"{sandbox.url}/api/v4/users",
        headers={"PRIVATE-TOKEN": sandbox.root_token},
        json={"name": "No Username", "email": "nousername@example.org"},
    )
    assert (answer.status_code, answer.json()) == (400, {"error": "username is missing"})


def test_blocked_user_gets_403_and_deleted_user_401(sandbox, admin):
    user, token = make_user(admin)
    user.block()
    answer = httpx.get(f"{sandbox.url}/api/v4/user", headers={"PRIVATE-TOKEN": token})
    assert answer.status_code == 403
    user.unblock()
    assert httpx.get(f"{sandbox.url}/api/v4/user", headers={"PRIVATE-TOKEN": token}).status_code == 200
    admin.users.delete(user.id)
    assert httpx.get(f"{sandbox.url}/api/v4/user", headers={"PRIVATE-TOKEN": token}).status_code == 401


def test_project_by_id_and_by_encoded_path(sandbox, admin):
    name = f"Proj {uuid.uuid4().hex[:6]}"
    project = admin.projects.create({"name": name, "visibility": "private"})
    assert project.path == name.lower().replace(" ", "-")
    assert project.web_url == f"{sandbox.url}/root/{project.path}"
    assert admin.projects.get(project.path_with_namespace).id == project.id
    raw = httpx.get(
        f"{sandbox.url}/api/v4/projects/root%2F{project.path}",
        headers={"PRIVATE-TOKEN": sandbox.root_token},
    )
    assert raw.json()["id"] == project.id


def test_project_params_in_query_string_or_form(sandbox):
    path = f"q-{uuid.uuid4().hex[:6]}"
    answer = httpx.post(
        f"{sandbox.url}/api/v4/projects?path={path}",
        headers={"PRIVATE-TOKEN": sandbox.root_token},
        data={"visibility": "public"},
    )
    assert answer.status_code == 201
    assert (answer.json()["path"], answer.json()["visibility"]) == (path, "public")


def test_private_project_invisible_to_non_members(sandbox, admin, world):
    _, token = make_user(admin)
    outsider = client(sandbox.url, token)
    with pytest.raises(gitlab.GitlabGetError) as caught:
        outsider.projects.get(world.project_id)
    assert caught.value.response_code == 404
    assert caught.value.error_message == "404 Project Not Found"
    assert world.project_id not in [p.id for p in outsider.projects.list(get_all=True)]


def test_members_levels_and_management(sandbox, admin, world):
    project = world.project("maintainer")
    members = {m.username: m.access_level for m in project.members.list(get_all=True)}
    assert members[world.users["guest"]["username"]] == 10
    assert members["root"] == 50
    newcomer, _ = make_user(admin)
    project.members.create({"user_id": newcomer.id, "access_level": 15})
    assert project.members_all.get(newcomer.id).access_level == 15
    member = project.members.get(newcomer.id)
    member.access_level = 20
    member.save()
    assert project.members_all.get(newcomer.id).access_level == 20
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        project.members.create({"user_id": newcomer.id, "access_level": 30})
    assert caught.value.response_code == 409
    project.members.delete(newcomer.id)
    with pytest.raises(gitlab.GitlabGetError) as caught:
        project.members_all.get(newcomer.id)
    assert caught.value.response_code == 404


def test_only_maintainers_manage_members(world):
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        world.project("reviewer").members.create({"user_id": 1, "access_level": 10})
    assert caught.value.response_code == 403


def test_invalid_access_level_is_refused(world):
    with pytest.raises(gitlab.GitlabUpdateError) as caught:
        world.project("maintainer").members.update(world.users["guest"]["id"], {"access_level": 33})
    assert caught.value.response_code == 400


def test_version_and_metadata(sandbox):
    headers = {"PRIVATE-TOKEN": sandbox.root_token}
    assert httpx.get(f"{sandbox.url}/api/v4/version", headers=headers).json() == {
        "version": "17.11.1-ee",
        "revision": "sandbox",
    }
    assert httpx.get(f"{sandbox.url}/api/v4/metadata", headers=headers).json()["version"] == "17.11.1-ee"
    unknown = httpx.get(f"{sandbox.url}/api/v4/nothing/here", headers=headers)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/json"
