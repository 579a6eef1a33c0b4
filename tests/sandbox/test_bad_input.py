"""Bad input gets GitLab's precise answer and changes nothing: no 500, no half-applied write."""

from __future__ import annotations

import httpx
import pytest

NOT_A_NUMBER = "%C2%B2"  # "²": str.isdigit() says yes, int() says no


def api(sandbox, world, role="maintainer") -> httpx.Client:
    token = sandbox.root_token if role == "root" else world.users[role]["token"]
    return httpx.Client(base_url=f"{sandbox.url}/api/v4", headers={"PRIVATE-TOKEN": token})


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"/projects/{NOT_A_NUMBER}"),
        ("GET", "/projects/{project}/issues/" + NOT_A_NUMBER),
        ("GET", "/projects/{project}/labels/" + NOT_A_NUMBER),
        ("GET", "/projects/{project}/hooks/" + NOT_A_NUMBER),
        ("GET", "/projects/{project}/members/all/" + NOT_A_NUMBER),
        ("PUT", "/projects/{project}/members/" + NOT_A_NUMBER),
        ("GET", f"/users/{NOT_A_NUMBER}"),
        ("POST", f"/todos/{NOT_A_NUMBER}/mark_as_done"),
    ],
)
def test_a_segment_that_only_looks_numeric_is_404_not_500(sandbox, world, method, path):
    with api(sandbox, world, "root") as client:
        answer = client.request(method, path.format(project=world.project_id))
    assert answer.status_code == 404, answer.text
    assert answer.json()["message"].startswith("404 ")


def test_an_invalid_label_name_on_create_writes_nothing(sandbox, world):
    with api(sandbox, world) as client:
        issues = f"/projects/{world.project_id}/issues"
        first = client.post(issues, json={"title": "before"}).json()
        refused = client.post(issues, json={"title": "t", "labels": "fresh," + "x" * 300})
        after = client.post(issues, json={"title": "after"}).json()
        labels = client.get(f"/projects/{world.project_id}/labels").json()
    assert refused.status_code == 422
    assert after["iid"] == first["iid"] + 1
    assert labels == []


def test_an_invalid_label_name_on_update_writes_nothing(sandbox, world):
    with api(sandbox, world) as client:
        issue = client.post(f"/projects/{world.project_id}/issues", json={"title": "t"}).json()
        refused = client.put(
            f"/projects/{world.project_id}/issues/{issue['iid']}",
            json={"add_labels": "fresh," + "x" * 300, "title": "changed"},
        )
        again = client.get(f"/projects/{world.project_id}/issues/{issue['iid']}").json()
        labels = client.get(f"/projects/{world.project_id}/labels").json()
    assert refused.status_code == 422
    assert (again["title"], again["labels"], labels) == ("t", [], [])


def test_a_refused_label_edit_leaves_the_label_as_it_was(sandbox, world):
    with api(sandbox, world) as client:
        labels = f"/projects/{world.project_id}/labels"
        client.post(labels, json={"name": "old", "color": "#111111"})
        refused = client.put(f"{labels}/old", json={"new_name": "new", "color": "#222222", "priority": "high"})
        kept = client.get(f"{labels}/old")
    assert refused.status_code == 400 and refused.json() == {"error": "priority is invalid"}
    assert (kept.status_code, kept.json()["color"]) == (200, "#111111")


def test_a_refused_hook_edit_leaves_the_hook_as_it_was(sandbox, world):
    with api(sandbox, world) as client:
        hooks = f"/projects/{world.project_id}/hooks"
        hook = client.post(hooks, json={"url": "http://127.0.0.1:9/old", "issues_events": True}).json()
        refused = client.put(f"{hooks}/{hook['id']}", json={"url": "http://127.0.0.1:9/new", "note_events": "maybe"})
        kept = client.get(f"{hooks}/{hook['id']}").json()
    assert refused.status_code == 400 and refused.json() == {"error": "note_events is invalid"}
    assert (kept["url"], kept["note_events"]) == ("http://127.0.0.1:9/old", False)


def test_labels_as_an_object_are_invalid_not_a_label_named_after_it(sandbox, world):
    with api(sandbox, world) as client:
        refused = client.post(f"/projects/{world.project_id}/issues", json={"title": "t", "labels": {"a": 1}})
        labels = client.get(f"/projects/{world.project_id}/labels").json()
    assert refused.status_code == 400 and refused.json() == {"error": "labels is invalid"}
    assert labels == []
