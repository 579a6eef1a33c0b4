"""GitLab may deliver an event again (a person presses "Resend"), late, or out of order."""

from __future__ import annotations

from bot.hook_admin import delivered
from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment


def deliveries(scene: Scene) -> list[dict]:
    """The hook's delivery log as GitLab shows it to a maintainer, newest first."""
    path = f"/projects/{scene.world.project_id}/hooks/{scene.hook_id}/events"
    return scene.world.clients["maintainer"].http_list(path, get_all=True)


def resend(scene: Scene, event_id: int) -> None:
    path = f"/projects/{scene.world.project_id}/hooks/{scene.hook_id}/events/{event_id}/resend"
    scene.world.clients["maintainer"].http_post(path)


def test_resent_deliveries_in_reverse_order_still_leave_one_note(scene: Scene):
    iid = scene.stage()
    by_comment("/reject too junior")(scene, iid)
    scene.wait_for_state(iid, "job-match/rejected")
    scene.settle()
    log = [event for event in deliveries(scene) if delivered(event)]
    assert len(log) >= 2  # the staging and the reviewer's comment

    for event in log:  # newest first: the reverse of how they happened
        resend(scene, event["id"])
    scene.settle()
    assert scene.bot.receiver.stats["duplicate"] == len(log)  # dropped by Idempotency-Key

    converged = scene.bot.queue.stats["converged"]
    scene.bot.receiver.recent.clear()  # correctness must not rest on that cache
    for event in log:
        resend(scene, event["id"])
    scene.settle()
    assert scene.bot.queue.stats["converged"] > converged  # this time they were converged again
    assert scene.state_labels(iid) == {"job-match/rejected"}
    assert len(scene.history(iid)) == 1
