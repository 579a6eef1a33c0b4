"""Project hooks end to end: CRUD, delivery to a real local receiver, headers, order, log, resend."""

from __future__ import annotations

import gitlab
import httpx
import pytest

from tests.sandbox.hook_receiver import start_receiver
from tests.support.waiting import wait_until

ALL_EVENTS = {
    "issues_events": True,
    "note_events": True,
    "confidential_issues_events": True,
    "confidential_note_events": True,
    "emoji_events": True,
    "push_events": False,
}


@pytest.fixture
def receiver():
    running = start_receiver()
    yield running
    running.stop()


@pytest.fixture
def hooked(world, receiver):
    hook = world.project("maintainer").hooks.create({"url": receiver.url, "token": "s3cret", **ALL_EVENTS})
    return world, hook


def test_hook_crud_never_returns_the_token(world, receiver):
    hooks = world.project("maintainer").hooks
    hook = hooks.create({"url": receiver.url, "token": "s3cret", "issues_events": True})
    assert "token" not in hook.attributes
    assert (hook.alert_status, hook.disabled_until, hook.issues_events, hook.note_events) == ("executable", None, True, False)
    hooks.update(hook.id, {"url": receiver.url, "note_events": True})
    assert hooks.get(hook.id).note_events is True
    assert [h.id for h in hooks.list()] == [hook.id]
    hooks.delete(hook.id)
    assert hooks.list() == []


def test_only_maintainers_manage_hooks(world, receiver):
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        world.project("reviewer").hooks.create({"url": receiver.url})
    assert caught.value.response_code == 403
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        world.project("maintainer").hooks.create({"url": "ftp://example.org/hook"})
    assert caught.value.response_code == 422


def test_delivery_headers_payload_and_order(hooked, receiver, sandbox):
    world, _ = hooked
    issue = world.project("bot").issues.create({"title": "t", "labels": "job-match/pending"})
    world.project("reviewer").issues.update(
        issue.iid, {"add_labels": "job-match/approved", "remove_labels": "job-match/pending"}
    )
    world.project("reviewer").issues.get(issue.iid, lazy=True).notes.create({"body": "/reject too junior"})
    world.project("reviewer").issues.get(issue.iid, lazy=True).awardemojis.create({"name": "thumbsup"})
    wait_until(lambda: len(receiver.deliveries) >= 4, message="4 deliveries")
    assert [d.event for d in receiver.deliveries] == ["Issue Hook", "Issue Hook", "Note Hook", "Emoji Hook"]
    first = receiver.deliveries[0]
    for header in ("X-Gitlab-Webhook-UUID", "X-Gitlab-Event-UUID", "Idempotency-Key"):
        assert first.headers[header]
    assert first.headers["X-Gitlab-Token"] == "s3cret"
    assert first.headers["User-Agent"] == "GitLab/17.11.1-ee"
    assert first.headers["X-Gitlab-Instance"] == sandbox.url
    assert first.body["object_attributes"]["action"] == "open"
    update = receiver.deliveries[1].body
    assert update["object_attributes"]["action"] == "update"
    assert update["user"]["username"] == world.users["reviewer"]["username"]
    assert [lb["title"] for lb in update["changes"]["labels"]["previous"]] == ["job-match/pending"]
    assert [lb["title"] for lb in update["changes"]["labels"]["current"]] == ["job-match/approved"]
    note = receiver.deliveries[2].body
    assert (note["object_attributes"]["note"], note["issue"]["iid"]) == ("/reject too junior", issue.iid)
    emoji = receiver.deliveries[3].body
    assert (emoji["event_type"], emoji["object_attributes"]["name"]) == ("award", "thumbsup")


def test_commands_only_comment_fires_no_note_hook(hooked, receiver, sandbox):
    world, _ = hooked
    issue = world.project("bot").issues.create({"title": "t"})
    httpx.post(
        f"{sandbox.url}/api/v4/projects/{world.project_id}/issues/{issue.iid}/notes",
        headers={"PRIVATE-TOKEN": world.users["reviewer"]["token"]},
        json={"body": "/approve"},
    )
    issue.notes.create({"body": "marker"})
    wait_until(lambda: receiver.of("Note Hook"), message="the marker note")
    assert [d.body["object_attributes"]["note"] for d in receiver.of("Note Hook")] == ["marker"]


def test_confidential_events_use_their_own_hooks(hooked, receiver):
    world, _ = hooked
    issue = world.project("bot").issues.create({"title": "secret", "confidential": True})
    world.project("bot").issues.get(issue.iid, lazy=True).notes.create({"body": "x"})
    public = world.project("bot").issues.create({"title": "public"})
    world.project("bot").issues.get(public.iid, lazy=True).notes.create({"body": "[bot] note", "internal": True})
    wait_until(lambda: len(receiver.deliveries) >= 4)
    kinds = [(d.event, d.body["event_type"]) for d in receiver.deliveries]
    assert kinds == [
        ("Confidential Issue Hook", "confidential_issue"),
        ("Confidential Note Hook", "confidential_note"),
        ("Issue Hook", "issue"),
        ("Confidential Note Hook", "confidential_note"),
    ]


def test_event_uuid_of_the_request_is_forwarded(hooked, receiver, sandbox):
    world, _ = hooked
    headers = {"PRIVATE-TOKEN": world.users["bot"]["token"], "X-Gitlab-Event-UUID": "chain-1"}
    httpx.post(f"{sandbox.url}/api/v4/projects/{world.project_id}/issues", headers=headers, json={"title": "t"})
    wait_until(lambda: receiver.deliveries)
    assert receiver.deliveries[0].headers["X-Gitlab-Event-UUID"] == "chain-1"


def test_delivery_log_redacts_token_and_resend_keeps_idempotency_key(hooked, receiver, sandbox):
    world, hook = hooked
    world.project("bot").issues.create({"title": "t"})
    wait_until(lambda: receiver.deliveries)
    headers = {"PRIVATE-TOKEN": world.users["maintainer"]["token"]}
    base = f"{sandbox.url}/api/v4/projects/{world.project_id}/hooks/{hook.id}/events"
    entries = wait_until(lambda: httpx.get(base, headers=headers).json())
    entry = entries[0]
    assert entry["trigger"] == "issue_hooks" and entry["response_status"] == "200"
    assert entry["request_headers"]["X-Gitlab-Token"] == "[REDACTED]"
    assert entry["request_data"]["object_kind"] == "issue"
    for key in ("id", "url", "execution_duration", "created_at"):
        assert key in entry
    resent = httpx.post(f"{base}/{entry['id']}/resend", headers=headers)
    assert resent.status_code == 201
    wait_until(lambda: len(receiver.deliveries) == 2)
    first, again = receiver.deliveries
    assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    assert again.headers["X-Gitlab-Webhook-UUID"] != first.headers["X-Gitlab-Webhook-UUID"]


def test_events_of_one_request_share_the_event_uuid_not_the_idempotency_key(hooked, receiver, sandbox):
    world, _ = hooked
    world.project("maintainer").labels.create({"name": "real", "color": "#5CB85C"})
    issue = world.project("bot").issues.create({"title": "t"})
    world.project("reviewer").issues.get(issue.iid, lazy=True).notes.create({"body": "ok\n/label ~real"})
    world.project("reviewer").issues.get(issue.iid, lazy=True).notes.create({"body": "again"})
    wait_until(lambda: len(receiver.deliveries) >= 4, message="open, note, label update, note")
    opened, *label_note, again = receiver.deliveries
    assert sorted(d.event for d in label_note) == ["Issue Hook", "Note Hook"]
    one, two = (d.headers for d in label_note)
    assert one["X-Gitlab-Event-UUID"] == two["X-Gitlab-Event-UUID"]
    assert one["Idempotency-Key"] != two["Idempotency-Key"]
    assert one["X-Gitlab-Webhook-UUID"] != two["X-Gitlab-Webhook-UUID"]
    others = {opened.headers["X-Gitlab-Event-UUID"], again.headers["X-Gitlab-Event-UUID"]}
    assert len(others | {one["X-Gitlab-Event-UUID"]}) == 3


def _issue_hooks_after_marker(world, receiver, issue) -> list[dict]:
    """Issue Hook bodies delivered before a marker note's Note Hook (deliveries keep order)."""
    issue.notes.create({"body": "marker"})
    wait_until(lambda: receiver.of("Note Hook"), message="the marker note")
    return [d.body for d in receiver.of("Issue Hook")]


def test_quick_actions_in_a_new_description_fire_one_open_event(hooked, receiver):
    world, _ = hooked
    world.project("maintainer").labels.create({"name": "urgent", "color": "#ff0000"})
    issue = world.project("reviewer").issues.create({"title": "t", "description": "Look.\n/label ~urgent"})
    bodies = _issue_hooks_after_marker(world, receiver, issue)
    assert [b["object_attributes"]["action"] for b in bodies] == ["open"]
    assert [lb["title"] for lb in bodies[0]["labels"]] == ["urgent"]
    assert [lb["title"] for lb in bodies[0]["changes"]["labels"]["current"]] == ["urgent"]
    assert bodies[0]["object_attributes"]["description"] == "Look."


def test_quick_actions_in_an_edited_description_fire_one_update_with_every_change(hooked, receiver):
    world, _ = hooked
    world.project("maintainer").labels.create({"name": "urgent", "color": "#ff0000"})
    issue = world.project("bot").issues.create({"title": "t"})
    world.project("reviewer").issues.update(
        issue.iid, {"title": "t2", "description": "Now.\n/label ~urgent\n/close"}
    )
    bodies = _issue_hooks_after_marker(world, receiver, issue)
    assert [b["object_attributes"]["action"] for b in bodies] == ["open", "close"]
    changes = bodies[1]["changes"]
    assert {"title", "description", "labels", "state_id"} <= set(changes)
    assert changes["description"]["current"] == "Now."
    assert [lb["title"] for lb in changes["labels"]["current"]] == ["urgent"]
