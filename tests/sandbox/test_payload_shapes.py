"""The sandbox's webhook bodies have the shape of GitLab's (tests/fixtures/gitlab_payloads/, copied
from the shared reference payloads).

For each real or derived payload, the same kind of event is produced in the sandbox, captured by
a local receiver, and compared: every key of the reference exists in the sandbox's body
(recursively, lists by their first item) with the same JSON type, `null` matching anything.

Allowed differences, on purpose:
- The sandbox may send MORE keys than a reference (e.g. `ci_config_path` in `project`,
  `internal` and `discussion_id` in a note's `object_attributes`): GitLab's payloads grew over
  the years, and the references come from different versions.
- `_DERIVED` references were assembled from the documented schema; their `changes` keys are best
  effort, so only the keys both sides have are compared there.
- `issue_doc_example.json` is an incident: `escalation_status` and `escalation_policy` exist only
  for incidents, not for plain issues.
- `issue_legacy_webhooks_md_example.json` is the pre-2019 shape: `position` and `branch_name` in
  `object_attributes` are no longer sent by GitLab.
- The Note Hook references copy the documentation's cut-down `issue` (with the legacy `position`
  and `branch_name`); GitLab builds that `issue` with its `IssueBuilder`, as an Issue Hook's
  `object_attributes` (lib/gitlab/data_builder/note.rb; tests/sandbox/test_contracts.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.hook_receiver import start_receiver
from tests.support.waiting import wait_until
from tests.support.world import new_world

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab_payloads"
ALLOWED_MISSING = {
    "issue_doc_example.json": {
        "object_attributes.escalation_status",
        "object_attributes.escalation_policy",
    },
    "issue_legacy_webhooks_md_example.json": {
        "object_attributes.position",
        "object_attributes.branch_name",
    },
    **dict.fromkeys(
        ["note_issue_comment_DERIVED.json", "note_issue_doc_example.json", "note_issue_internal_DERIVED.json"],
        {"issue.position", "issue.branch_name"},
    ),
}

# reference file -> (X-Gitlab-Event, how to pick the delivery among the captured ones)
CASES = {
    "issue_open_DERIVED.json": ("Issue Hook", "open"),
    "issue_update_labels_DERIVED.json": ("Issue Hook", "update"),
    "issue_doc_example.json": ("Issue Hook", "update"),
    "issue_legacy_webhooks_md_example.json": ("Issue Hook", "update"),
    "issue_close_DERIVED.json": ("Issue Hook", "close"),
    "issue_reopen_DERIVED.json": ("Issue Hook", "reopen"),
    "note_issue_comment_DERIVED.json": ("Note Hook", "create"),
    "note_issue_doc_example.json": ("Note Hook", "create"),
    "note_issue_internal_DERIVED.json": ("Confidential Note Hook", "create"),
    "emoji_award_on_issue_DERIVED.json": ("Emoji Hook", "Issue"),
    "emoji_award_on_issue_note_doc_example.json": ("Emoji Hook", "Note"),
}


def json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def shape_differences(
    reference: Any, ours: Any, path: str, allowed: set[str], lenient_changes: bool
) -> list[str]:
    if reference is None or ours is None:
        return []
    if json_type(reference) != json_type(ours):
        return [f"{path or '<root>'}: {json_type(reference)} in reference, {json_type(ours)} here"]
    if isinstance(reference, list):
        if reference and ours:
            return shape_differences(reference[0], ours[0], f"{path}[]", allowed, lenient_changes)
        return []
    if not isinstance(reference, dict):
        return []
    problems = []
    for key, value in reference.items():
        where = f"{path}.{key}" if path else key
        if key not in ours:
            if where not in allowed and not (lenient_changes and path == "changes"):
                problems.append(f"{where}: missing")
            continue
        problems += shape_differences(value, ours[key], where, allowed, lenient_changes)
    return problems


@pytest.fixture(scope="module")
def captured(sandbox):
    """Every kind of event, produced once by the people of a fresh world."""
    receiver = start_receiver()
    world = new_world(sandbox)
    world.project("maintainer").hooks.create(
        {
            "url": receiver.url,
            "issues_events": True,
            "note_events": True,
            "confidential_note_events": True,
            "emoji_events": True,
        }
    )
    bot, reviewer = world.project("bot"), world.project("reviewer")
    issue = bot.issues.create(
        {
            "title": "ACME GmbH - Backend Engineer",
            "description": "Match score: 0.87",
            "labels": "job-match/pending",
            "assignee_ids": [world.users["reviewer"]["id"]],
        }
    )
    reviewer.issues.update(issue.iid, {"add_labels": "job-match/approved", "remove_labels": "job-match/pending"})
    bot.issues.update(issue.iid, {"state_event": "close"})
    bot.issues.update(issue.iid, {"state_event": "reopen"})
    note = reviewer.issues.get(issue.iid, lazy=True).notes.create({"body": "/reject salary too low"})
    bot.issues.get(issue.iid, lazy=True).notes.create({"body": "[bot] state", "internal": True})
    reviewer.issues.get(issue.iid, lazy=True).awardemojis.create({"name": "thumbsup"})
    reviewer.issues.get(issue.iid, lazy=True).notes.get(note.id).awardemojis.create({"name": "thumbsup"})
    wait_until(lambda: len(receiver.deliveries) >= 8, message="8 deliveries")
    receiver.stop()
    return receiver.deliveries


def pick(deliveries, event: str, which: str) -> dict[str, Any]:
    for delivery in deliveries:
        attributes = delivery.body["object_attributes"]
        if delivery.event == event and which in (attributes.get("action"), attributes.get("awardable_type")):
            return delivery.body
    raise AssertionError(f"no {event} {which} delivered")


@pytest.mark.parametrize("name", sorted(CASES))
def test_payload_shape_matches_reference(captured, name):
    reference = json.loads((PAYLOADS / name).read_text())
    ours = pick(captured, *CASES[name])
    problems = shape_differences(
        reference, ours, "", ALLOWED_MISSING.get(name, set()), lenient_changes="_DERIVED" in name
    )
    assert problems == [], f"{name}: {problems}"
    assert ours["object_kind"] == reference["object_kind"]
    if "event_type" in reference:
        assert ours["event_type"] == reference["event_type"]


def test_every_hook_reference_is_covered():
    files = {p.name for p in PAYLOADS.glob("*.json") if p.name.startswith(("issue_", "note_", "emoji_"))}
    assert files == set(CASES)
