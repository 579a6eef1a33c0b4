"""Two reviewers approving and rejecting the same match at the same moment: one final state,
both acts recorded, and the one who lost the race told why."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.markers import parse_markers
from tests.e2e.conftest import Scene
from tests.resilience.conftest import Act, comment, emoji, label

RACES = {  # (the reviewer approves, the maintainer rejects)
    "label against comment": (label("approved"), comment("/reject not remote")),
    "emoji against emoji": (emoji("thumbsup"), emoji("thumbsdown")),
    "comment against comment": (comment("/accept"), comment("/reject salary too low")),
    "label against label": (label("approved"), label("rejected")),
}


def bot_notes(scene: Scene, iid: int) -> list[tuple[str, str]]:
    """(marker kind, note body) of the bot's history notes on the issue."""
    bot_id = scene.world.users["bot"]["id"]
    return [
        (marker.kind, note.body)
        for note in scene.issue(iid).notes.list(get_all=True, sort="asc") if note.author["id"] == bot_id
        for marker in parse_markers(note.body) if marker.kind in ("transition", "refusal")
    ]


def test_simultaneous_approve_and_reject_end_in_one_state_with_both_recorded(scene: Scene):
    iids = {name: scene.stage(f"Race {n} at Example eG") for n, name in enumerate(RACES)}
    scene.settle()
    start = threading.Barrier(2 * len(RACES))

    def at_once(act: Act, role: str, iid: int) -> None:
        start.wait(timeout=30)
        act(scene.world.project(role), iid)

    with ThreadPoolExecutor(2 * len(RACES)) as pool:
        for name, (approve, reject) in RACES.items():
            pool.submit(at_once, approve, "reviewer", iids[name])
            pool.submit(at_once, reject, "maintainer", iids[name])
    scene.settle()

    for name, iid in iids.items():
        final = scene.state_labels(iid)
        assert final in ({"job-match/approved"}, {"job-match/rejected"}), (name, final)
        loser = "maintainer" if final == {"job-match/approved"} else "reviewer"
        notes = bot_notes(scene, iid)
        assert sorted(kind for kind, _ in notes) == ["refusal", "transition"], (name, notes)
        refusal = next(body for kind, body in notes if kind == "refusal")
        assert f"@{scene.world.users[loser]['username']}" in refusal, (name, refusal)
        assert "the workflow has no such step" in refusal, (name, refusal)
