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
