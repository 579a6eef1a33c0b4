"""The bot's own health on the admin channel: a webhook GitLab disabled after real failed
deliveries, and GitLab API failures in a row — one message when trouble starts, one when it ends."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.catch_up import CatchUpLoop
from bot.hook_admin import install_hook
from bot.notify import build_dispatcher
from bot.sandbox.control import SandboxControl
from tests.fakes.http import Answer, FakeService, Received
from tests.fakes.smtp import free_port
from tests.support.bot import bot_runtime
from tests.support.waiting import wait_until
from tests.support.world import World, new_world

SECRET = "made-up-webhook-secret"


class AcceptingReceiver(FakeService):
    """Stands in for the bot's receiver once it is reachable again: every delivery is accepted."""

    def answer(self, received: Received) -> Answer:
        return Answer(200, {"ok": True})


@pytest.fixture
def maintained_world(sandbox) -> World:
    """A world whose bot is maintainer: listing hooks needs that role."""
    return new_world(sandbox, bot_access=40)


def runtime_with_admin(world: World, outbox: Path, **over: Any) -> Any:
    notify = {"admin_channel": "console", "retry": {"report_after_rounds": 2, "attempts": 1},
              "channels": {"console": {"enabled": True, "outbox": str(outbox)}}}
    runtime = bot_runtime(world, notify=notify, **over)
    runtime.notifier = build_dispatcher(runtime.settings, runtime.gitlab)
    return runtime


def admin_messages(outbox: Path) -> list[str]:
    if not outbox.exists():
        return []
    entries = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    return [entry["text"].strip() for entry in entries if entry["kind"] == "health"]


def catch_up_passes(runtime: Any, times: int) -> None:
    loop = CatchUpLoop(runtime)
    for _ in range(times):
        asyncio.run(loop.run_pass())


def test_a_webhook_disabled_by_failed_deliveries_is_reported_once_and_its_recovery_too(
    maintained_world: World, tmp_path: Path
) -> None:
    world, outbox = maintained_world, tmp_path / "outbox.jsonl"
    runtime = runtime_with_admin(world, outbox)
    closed = f"http://127.0.0.1:{free_port()}"   # nothing listens: every delivery fails
    hook, _ = install_hook(runtime.gitlab, f"{closed}/webhook", SECRET)
    for n in range(4):
        world.project("reviewer").issues.create({"title": f"Event {n} for a receiver that is down"})
    wait_until(lambda: runtime.gitlab.hooks()[0]["alert_status"] == "temporarily_disabled",
               message="GitLab disabling the hook after 4 failed deliveries")

    catch_up_passes(runtime, 3)

    (reported,) = admin_messages(outbox)
    assert reported.startswith(f"GitLab has disabled the bot's webhook: {closed}/webhook is temporarily_disabled until ")

    with AcceptingReceiver() as receiver:
        runtime.gitlab.update_hook(hook["id"], url=f"{receiver.url}/webhook")
        failed = runtime.gitlab.hook_events(hook["id"])[0]
        resent = httpx.post(f"{world.url}/api/v4/projects/{world.project_id}/hooks/{hook['id']}/events/"
                            f"{failed['id']}/resend", headers={"PRIVATE-TOKEN": world.users["maintainer"]["token"]})
        assert resent.status_code == 201 and resent.json()["response_status"] == "200"
        catch_up_passes(runtime, 2)

    assert admin_messages(outbox) == [reported, f"The bot's webhook is enabled again: {receiver.url}/webhook."]


def test_the_hook_is_matched_by_public_url(maintained_world: World, tmp_path: Path) -> None:
    world, outbox = maintained_world, tmp_path / "outbox.jsonl"
    runtime = runtime_with_admin(world, outbox, public_url="http://127.0.0.1:9/bot/")
    hook, _ = install_hook(runtime.gitlab, f"http://127.0.0.1:{free_port()}/webhook", SECRET)
    for n in range(4):
        world.project("reviewer").issues.create({"title": f"Event {n}"})
    wait_until(lambda: runtime.gitlab.hooks()[0]["alert_status"] == "temporarily_disabled")

    catch_up_passes(runtime, 1)
    assert admin_messages(outbox) == []   # another bot's hook, not the one at public_url

    runtime.gitlab.update_hook(hook["id"], url="http://127.0.0.1:9/bot/webhook")
    catch_up_passes(runtime, 1)
    assert len(admin_messages(outbox)) == 1


def test_a_developer_bot_cannot_watch_its_hook_and_says_so_in_the_log(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.notify.watch")
    runtime = runtime_with_admin(world, tmp_path / "outbox.jsonl")
    catch_up_passes(runtime, 2)
    hidden = [r for r in caplog.records if "webhook's health is not watched" in r.getMessage()]
    assert len(hidden) == 1 and admin_messages(tmp_path / "outbox.jsonl") == []


def test_catch_up_and_notification_rounds_failing_in_a_row_are_one_incident_each(
    world: World, control: SandboxControl, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    runtime = runtime_with_admin(world, outbox, gitlab_options={"retries": 1, "max_wait": 0.01})
    control.faults(error_rate=1.0, statuses={"500": 1}, paths=["/projects/:id/issues"])

    catch_up_passes(runtime, 1)
    runtime.notifier.flush_due()
    assert admin_messages(outbox) == []          # one failure is not yet an incident

    catch_up_passes(runtime, 3)
    for _ in range(3):
        runtime.notifier.flush_due()
    catch_up, notifications = admin_messages(outbox)
    assert catch_up.startswith("Catch-up keeps failing: the pass failed: GitLab answered 500")
    assert catch_up.endswith("(2 times in a row)")
    assert notifications.startswith("Notifications wait, GitLab keeps failing: GitLab answered 500")

    control.faults()
    catch_up_passes(runtime, 2)
    runtime.notifier.flush_due()
    runtime.notifier.flush_due()
    assert admin_messages(outbox)[2:] == ["Catch-up works again.", "Notifications reach GitLab again."]
