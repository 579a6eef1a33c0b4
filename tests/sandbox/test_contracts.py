"""The sandbox's answers and webhook bodies hold GitLab's own contracts.

tests/fixtures/gitlab_schemas/contracts.json lists what GitLab's JSON schemas require and what its
API entities and webhook data builders expose (the README there names the GitLab commits). One
world makes every kind of object once, over real HTTP; each answer and each captured delivery is
held against its contract, and any difference fails with the key and what was wrong.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.hook_receiver import start_receiver
from tests.support.contracts import differences
from tests.support.waiting import wait_until
from tests.support.world import new_world

EVENTS = ("issues_events", "note_events", "confidential_note_events", "emoji_events")


@pytest.fixture(scope="module")
def made(sandbox) -> dict[str, Any]:
    """One of everything: answers by name, and the deliveries of the project hook."""
    receiver = start_receiver()
    world = new_world(sandbox)
    hook = world.project("maintainer").hooks.create({"url": receiver.url, **dict.fromkeys(EVENTS, True)})
    bot, reviewer = world.project("bot"), world.project("reviewer")
    bot.labels.create({"name": "job-match/pending", "color": "#428BCA"})
    issue = bot.issues.create({"title": "ACME - Engineer", "description": "Match",
                               "labels": "job-match/pending",
                               "assignee_ids": [world.users["reviewer"]["id"]]})
    reviewer.issues.update(issue.iid, {"add_labels": "job-match/approved",
                                       "remove_labels": "job-match/pending"})
    note = reviewer.issues.get(issue.iid, lazy=True).notes.create(
        {"body": f"/reject too far @{world.users['bot']['username']}"})
    bot.issues.get(issue.iid, lazy=True).notes.create({"body": "[bot] state", "internal": True})
    reviewer.issues.get(issue.iid, lazy=True).awardemojis.create({"name": "thumbsup"})
    reviewer.issues.get(issue.iid, lazy=True).notes.get(note.id).awardemojis.create({"name": "eyes"})
    wait_until(lambda: len(receiver.deliveries) >= 6, message="6 deliveries")
    receiver.stop()

    path = f"/projects/{world.project_id}"
    issue_path = f"{path}/issues/{issue.iid}"

    def get(role: str, url: str) -> Any:
        token = world.users[role]["token"] if role != "root" else sandbox.root_token
        response = httpx.get(f"{sandbox.url}/api/v4{url}", headers={"PRIVATE-TOKEN": token})
        response.raise_for_status()
        return response.json()

    upload = httpx.post(f"{sandbox.url}/api/v4{path}/uploads",
                        headers={"PRIVATE-TOKEN": world.users["bot"]["token"]},
                        files={"file": ("cv.pdf", b"%PDF-1.4", "application/pdf")}).json()
    discussions = get("bot", f"{issue_path}/discussions")
    return {
        "deliveries": receiver.deliveries,
        "user_public": get("reviewer", "/user"),
        "user_admin": get("root", "/user"),
        "user_admin_of_other": get("root", f"/users/{world.users['bot']['id']}"),
        "issue": get("bot", issue_path),
        "issues": get("bot", f"{path}/issues"),
        "notes": get("bot", f"{issue_path}/notes"),
        "label_events": get("bot", f"{issue_path}/resource_label_events"),
        "labels": get("bot", f"{path}/labels"),
        "members": get("bot", f"{path}/members/all"),
        "hooks": get("maintainer", f"{path}/hooks"),
        "hook_events": get("maintainer", f"{path}/hooks/{hook.id}/events"),
        "projects": get("bot", "/projects"),
        "awards": get("bot", f"{issue_path}/award_emoji"),
        "todos": get("bot", "/todos") + get("reviewer", "/todos"),
        "discussions": discussions,
        "discussion": get("bot", f"{issue_path}/discussions/{discussions[0]['id']}"),
        "token": get("bot", "/personal_access_tokens/self"),
        "upload": upload,
    }


def holds(found: list[str]) -> None:
    assert not found, "differences from GitLab:\n" + "\n".join(found)


def each(name: str, values: list[Any]) -> list[str]:
    assert values, "nothing to check"
    return [d for i, value in enumerate(values) for d in differences("api", name, value, f"{name}[{i}]")]


@pytest.mark.parametrize(("answer", "contract"), [
    ("user_public", "user_public"),
    ("user_admin", "user_admin"),
    ("user_admin_of_other", "user_admin"),
    ("issue", "issue"),
    ("discussion", "discussion"),
    ("token", "personal_access_token"),
    ("upload", "upload"),
])
def test_an_answer_holds_its_contract(made, answer, contract):
    holds(differences("api", contract, made[answer]))


@pytest.mark.parametrize(("answer", "contract"), [
    ("issues", "issue"),
    ("notes", "note"),
    ("labels", "project_label"),
    ("members", "member"),
    ("hooks", "project_hook"),
    ("hook_events", "hook_event"),
    ("projects", "project"),
    ("awards", "award_emoji"),
    ("todos", "todo"),
    ("discussions", "discussion"),
])
def test_each_item_of_a_list_holds_its_contract(made, answer, contract):
    holds(each(contract, made[answer]))


def test_label_events_carry_label_basic(made):
    labels = [event["label"] for event in made["label_events"]]
    holds(each("label_basic", labels))


def test_hook_events_give_the_response_status_as_a_string(made):
    assert {event["response_status"] for event in made["hook_events"]} == {"200"}


def delivered(made, event: str) -> list[dict[str, Any]]:
    bodies = [d.body for d in made["deliveries"] if d.event == event]
    assert bodies, f"no {event} delivered"
    return bodies


@pytest.mark.parametrize(("event", "contract"), [
    ("Issue Hook", "issue_hook"),
    ("Note Hook", "note_hook"),
    ("Confidential Note Hook", "note_hook"),
])
def test_hook_bodies_hold_the_data_builders_key_lists(made, event, contract):
    found = [d for body in delivered(made, event) for d in differences("hooks", contract, body, event)]
    holds(found)


def test_emoji_hooks_hold_the_data_builders_key_lists(made):
    bodies = delivered(made, "Emoji Hook")
    assert {b["object_attributes"]["awardable_type"] for b in bodies} == {"Issue", "Note"}
    found = [d for body in bodies for d in differences(
        "hooks", "emoji_hook_on_note" if "note" in body else "emoji_hook", body, "Emoji Hook")]
    holds(found)


def test_issue_hook_assignees_are_hook_users_with_email(made):
    bodies = [b for b in delivered(made, "Issue Hook") if "assignees" in b]
    assert bodies
    found = [d for b in bodies for i, a in enumerate(b["assignees"])
             for d in differences("hooks", "hook_user", a, f"assignees[{i}]")]
    holds(found)
