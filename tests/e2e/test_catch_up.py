"""What happens while the bot is down is recorded once it is back: GitLab drops events while a hook
is disabled and never retries, so catch-up has to find the changes itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.sandbox.control import SandboxControl
from tests.e2e.conftest import Scene
from tests.e2e.test_review import by_comment, by_emoji, by_label
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings
from tests.support.waiting import wait_until

CHANGES = [
    (by_label, "job-match/approved"),
    (by_comment("/reject salary far too low"), "job-match/rejected"),
    (by_emoji("thumbsup"), "job-match/approved"),
    (by_comment("@{bot} approve"), "job-match/approved"),
]


def test_changes_made_while_the_bot_was_down_are_recorded_exactly_once(sandbox, world):
    settings = served_bot_settings(world)
    with running_bot(settings) as bot:
        scene = Scene(sandbox, world, bot, install_hook_for(bot, world))
        iids = [scene.stage(f"Role {n} at Example AG") for n in range(len(CHANGES))]
        scene.settle()
    port = urlsplit(bot.url).port

    changes_while_down(scene, iids)
    assert all(scene.history(iid) == [] for iid in iids)

    with running_bot(settings, port=port) as scene.bot:  # back where the hook points
        two_passes_after_the_restart(scene, iids)
        receiver = scene.bot.receiver
        assert [len(scene.history(iid)) for iid in iids] == [1] * len(iids)
        # The bot's own writes (outside any event chain) came back as webhooks, and were ignored.
        assert receiver.stats["queued"] == 0 and receiver.ignored["the bot's own action"] >= len(iids)


def changes_while_down(scene: Scene, iids: list[int]) -> None:
    """Each of `CHANGES` on one issue, while GitLab drops the hook's events."""
    with SandboxControl(scene.sandbox.url, scene.sandbox.root_token) as control:
        control.pause_hook(scene.hook_id)  # GitLab drops these events: nobody will deliver them
        for iid, (act, _) in zip(iids, CHANGES):
            act(scene, iid)
        control.unpause_hook(scene.hook_id)


def two_passes_after_the_restart(scene: Scene, iids: list[int]) -> None:
    """The bot just came back: the first pass finds the changes, a second finds nothing left."""
    catch_up = scene.bot.app.state.catch_up
    for iid, (_, expected) in zip(iids, CHANGES):
        scene.wait_for_state(iid, expected)
    wait_until(lambda: catch_up.passes >= 1 and catch_up.last_success, message="the first pass")
    scene.settle()
    before = scene.bot.catch_up_now()
    wait_until(lambda: catch_up.passes > before, message="the second pass")
    scene.settle()
