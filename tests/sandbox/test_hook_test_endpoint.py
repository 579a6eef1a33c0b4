"""`POST …/hooks/:hook_id/test/:trigger`, GitLab's "Test" button, in the sandbox."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.hook_receiver import start_receiver


@pytest.fixture
def receiver():
    running = start_receiver()
    yield running
    running.stop()


def endpoint(world, hook_id: int, trigger: str) -> str:
    return f"{world.url}/api/v4/projects/{world.project_id}/hooks/{hook_id}/test/{trigger}"


def post(world, url: str, role: str = "maintainer") -> httpx.Response:
    return httpx.post(url, headers={"PRIVATE-TOKEN": world.users[role]["token"]})


def test_an_issue_hook_test_is_sent_at_once_built_from_the_first_issue(world, receiver):
    hook = world.project("maintainer").hooks.create({"url": receiver.url, "token": "s3cret",
                                                      "issues_events": False})
    first = world.project("bot").issues.create({"title": "first"})
    world.project("bot").issues.create({"title": "second"})
    answer = post(world, endpoint(world, hook.id, "issue_hooks"))
    assert (answer.status_code, answer.json()) == (201, {"message": "201 Created"})
    (delivery,) = receiver.deliveries          # sent before the answer, though not subscribed
    assert delivery.event == "Issue Hook"
    assert delivery.headers["X-Gitlab-Token"] == "s3cret" and delivery.headers["Idempotency-Key"]
    assert delivery.body["object_attributes"]["iid"] == first.iid
    assert "action" not in delivery.body["object_attributes"]
    assert delivery.body["user"]["username"] == world.users["maintainer"]["username"]
    (logged,) = world.clients["maintainer"].http_get(f"/projects/{world.project_id}/hooks/{hook.id}/events")
    assert logged["trigger"] == "issue_hooks" and logged["response_status"] == "200"
    assert logged["request_headers"]["X-Gitlab-Webhook-UUID"] == delivery.headers["X-Gitlab-Webhook-UUID"]


def test_a_note_hook_test_uses_the_first_comment(world, receiver):
    hook = world.project("maintainer").hooks.create({"url": receiver.url})
    issue = world.project("bot").issues.create({"title": "first"})
    note = issue.notes.create({"body": "hello"})
    assert post(world, endpoint(world, hook.id, "note_hooks")).status_code == 201
    assert receiver.deliveries[-1].body["object_attributes"]["id"] == note.id


def test_a_failing_receiver_answers_422_with_the_status(world, receiver):
    receiver.status = 500
    hook = world.project("maintainer").hooks.create({"url": receiver.url})
    world.project("bot").issues.create({"title": "first"})
    answer = post(world, endpoint(world, hook.id, "issue_hooks"))
    assert (answer.status_code, answer.json()) == (422, {"message": "Error: 500"})


@pytest.mark.parametrize(("trigger", "status", "body"), [
    ("issue_hooks", 422, {"message": "Ensure the project has issues."}),
    ("note_hooks", 422, {"message": "Ensure the project has notes."}),
    ("issues_events", 400, {"error": "trigger does not have a valid value"}),
    ("pipeline_hooks", 422, {"message": "the sandbox cannot build test data for pipeline_hooks"}),
])
def test_what_cannot_be_tested_gets_a_precise_answer(world, receiver, trigger, status, body):
    hook = world.project("maintainer").hooks.create({"url": receiver.url})
    answer = post(world, endpoint(world, hook.id, trigger))
    assert (answer.status_code, answer.json()) == (status, body)
    assert receiver.deliveries == []


def test_only_maintainers_test_hooks(world, receiver):
    hook = world.project("maintainer").hooks.create({"url": receiver.url})
    assert post(world, endpoint(world, hook.id, "issue_hooks"), role="reporter").status_code == 403
