"""Who may move a match is the workflow's to say (`min_access: developer` by default): commands,
labels and emoji from a guest, a reporter, a non-member and a blocked user are refused and
explained, the state stays; and the bot never acts on its own events.

The sandbox's projects are private, so the non-member and the blocked user act while they are
still developers, and lose that before the bot looks (the hook paused, the catch-up finds them):
what counts is the right when the bot decides."""

from __future__ import annotations

import uuid
from typing import Any

from bot.markers import parse_markers
from tests.e2e.conftest import Scene
from tests.resilience.conftest import comment, emoji, label
from tests.support.waiting import wait_until
from tests.support.world import client

PENDING = {"job-match/pending"}
WAYS = {"command": comment("/accept"), "emoji": emoji("thumbsup"), "label": label("approved")}


def developer(scene: Scene, role: str) -> dict[str, Any]:
    """A new developer of the project, with a token and a client."""
    admin = scene.world.admin
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    user = admin.users.create({"username": name, "name": role.title(), "email": f"{name}@example.org",
                               "password": uuid.uuid4().hex, "skip_confirmation": True})
    token = user.personal_access_tokens.create({"name": "tests", "scopes": ["api"]}).token
    admin.projects.get(scene.world.project_id).members.create({"user_id": user.id, "access_level": 30})
    return {"id": user.id, "username": name, "client": client(scene.world.url, token)}


def bot_notes(scene: Scene, iid: int) -> list[tuple[str, str]]:
    """(kind, body) of each note of the bot: the kind of its first marker (a history note's
    own; the outcome of its notifications follows it in the same note)."""
    bot_id = scene.world.users["bot"]["id"]
    notes = [note.body for note in scene.issue(iid).notes.list(get_all=True) if note.author["id"] == bot_id]
    return [(markers[0].kind, body) for body in notes for markers in [parse_markers(body)] if markers]


def test_acts_by_people_without_the_right_are_refused_and_explained(scene: Scene, control):
    world = scene.world
    people = {
        "guest": {"username": world.users["guest"]["username"], "client": world.clients["guest"]},
        "reporter": {"username": world.users["reporter"]["username"], "client": world.clients["reporter"]},
        "outsider": developer(scene, "outsider"),
        "blocked": developer(scene, "blocked"),
    }
    late = ("outsider", "blocked")
    acts = [("guest", "command"), ("guest", "emoji"), ("reporter", "command"), ("reporter", "emoji"),
            ("reporter", "label"), ("outsider", "command"), ("outsider", "emoji"), ("outsider", "label"),
            ("blocked", "command"), ("blocked", "emoji"), ("blocked", "label")]
    iids = [scene.stage(f"Rights {n} at Example e.V.") for n in range(len(acts))]
    scene.settle()

    control.pause_hook(scene.hook_id)
    for iid, (who, way) in zip(iids, acts):
        if who in late:
            WAYS[way](people[who]["client"].projects.get(world.project_id, lazy=True), iid)
    world.admin.projects.get(world.project_id).members.delete(people["outsider"]["id"])
    world.admin.users.get(people["blocked"]["id"]).block()
    control.unpause_hook(scene.hook_id)
    for iid, (who, way) in zip(iids, acts):
        if who not in late:
            WAYS[way](people[who]["client"].projects.get(world.project_id, lazy=True), iid)
    passes = scene.bot.catch_up_now()
    wait_until(lambda: scene.bot.app.state.catch_up.passes > passes, message="the catch-up pass")
    scene.settle()

    outcomes = {}
    for iid, (who, way) in zip(iids, acts):
        notes = bot_notes(scene, iid)
        refusals = [body for kind, body in notes if kind == "refusal"]
        outcomes[(who, way)] = (
            scene.state_labels(iid) == PENDING,
            [kind for kind, _ in notes],
            bool(refusals) and f"@{people[who]['username']}" in refusals[0] and "needs developer access" in refusals[0],
        )
    assert outcomes == {key: (True, ["refusal"], True) for key in outcomes}


def test_the_bot_never_acts_on_its_own_commands_labels_or_emoji(scene: Scene):
    iids = [scene.stage(f"Own {n} at Example AG") for n in range(3)]
    scene.settle()
    as_bot = scene.world.project("bot")
    for iid, act in zip(iids, WAYS.values()):
        act(as_bot, iid)
    scene.settle()
    receiver = scene.bot.receiver
    assert receiver.stats["queued"] == 0
    assert receiver.ignored["the bot's own action"] >= 2 * len(iids)

    passes = scene.bot.catch_up_now()   # and a converge of each issue finds nothing to record
    wait_until(lambda: scene.bot.app.state.catch_up.passes > passes, message="the catch-up pass")
    scene.settle()
    assert [bot_notes(scene, iid) for iid in iids] == [[], [], []]
    assert [scene.state_labels(iid) for iid in iids[:2]] == [PENDING, PENDING]
