"""Two replicas of the bot (`vorhoelle serve` twice, as Cloud Run runs old and new revision side by
side during a deploy, or more than one instance) on one project, each receiving every webhook
through a hook of its own, under a burst of review transitions: every transition is recorded once,
and every message goes out once — not twice, not as a possible repeat.

Real processes: within one process the converges of an issue take turns, which would hide the race.
"""

from __future__ import annotations

import os
import random
import re
import time
from pathlib import Path

import httpx
import pytest
import yaml
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Scene
from tests.resilience.conftest import comment, emoji, label, notified, notify_config, outbox_items, slack_items
from tests.support.botserver import API_TOKEN, install_hook_for, ready, serve_process, served_bot_settings
from tests.support.waiting import wait_until

BURST = int(os.environ.get("VORHOELLE_REPLICA_BURST", "200"))
WAYS = [(label("approved"), "approved"), (comment("/reject not remote"), "rejected"),
        (emoji("thumbsup"), "approved"), (comment("/accept"), "approved"), (emoji("thumbsdown"), "rejected")]


def slack_total(slack) -> int:
    """Items Slack received: shown as sections, or folded into "…and N more" past its block limit."""
    total = 0
    for message in slack.messages():
        for block in message.get("blocks", []):
            text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
            total += bool(re.search(r"<[^|>\s]+/-/issues/\d+\|", text))
            for element in block.get("elements", []) if block.get("type") == "context" else []:
                total += sum(int(n) for n in re.findall(r"…and (\d+) more", element.get("text", "")))
    return total


def settled(bot) -> bool:
    try:
        details = ready(bot.url).json()
    except httpx.TransportError:
        return False
    return details.get("catch_up", {}).get("last_success") is not None and details["queue"]["idle"]


@pytest.fixture
def replicas(world, slack, outbox, tmp_path: Path):
    """Two `vorhoelle serve` processes on the world's project, each with a hook of its own."""
    config = tmp_path / "vorhoelle.yml"
    config.write_text(yaml.safe_dump({"notify": notify_config(slack, outbox)}))
    env = {"VORHOELLE_CONFIG": str(config)}
    started = []
    try:
        for _ in range(2):
            started.append(serve_process(served_bot_settings(world), cwd=str(tmp_path), env=env))
            install_hook_for(started[-1], world)   # GitLab delivers every event to both
        yield started
    finally:
        for bot in started:
            assert bot.stop() in (0, -15), "\n".join(bot.lines[-20:])


def all_settled(world, replicas) -> None:
    for bot in replicas:
        wait_until(lambda: settled(bot), timeout=180, message="both replicas to converge")  # noqa: B023
    owed = served_bot_settings(world).notify.owed_label
    wait_until(lambda: not world.project("maintainer").issues.list(labels=[owed], get_all=True),
               timeout=120, message="messages another replica was sending to be recorded")


@pytest.mark.timeout(420)
def test_two_replicas_record_every_transition_once_and_send_every_message_once(sandbox, world, slack, outbox, replicas):
    scene = Scene(sandbox, world, replicas[0], None)
    iids = [scene.stage(f"Role {n} at Example SE") for n in range(BURST)]
    rng = random.Random(200)
    reviewer = world.project("reviewer")
    for n, iid in enumerate(iids):
        WAYS[n % len(WAYS)][0](reviewer, iid)
        time.sleep(rng.uniform(0, 0.02))
    all_settled(world, replicas)

    for n, iid in enumerate(iids):
        event = WAYS[n % len(WAYS)][1]
        web_url = scene.issue(iid).web_url
        assert scene.state_labels(iid) == {f"job-match/{event}"}, iid
        assert len(scene.history(iid)) == 1, (iid, scene.history(iid))
        for channel in ("slack", "console"):
            records = [m for m in notified(scene, iid) if m["event"] == event and m["channel"] == channel]
            assert len(records) == 1 and records[0].get("possible_repeat") is False, (iid, channel, records)
        assert outbox_items(outbox, web_url) == 1, iid       # the console lists every item it sends
        assert slack_items(slack, web_url) <= 1, iid         # Slack folds items past its block limit...
    assert slack_total(slack) == BURST                       # ...but counts them: each sent exactly once
    lines = [line for bot in replicas for line in bot.lines]
    assert any("deleted mine" in line or "claimed" in line for line in lines), \
        "the replicas never raced; the test proves nothing"


@pytest.mark.timeout(300)
def test_one_cycle_posted_to_both_replicas_at_once_is_one_issue_per_match(world, slack, outbox, replicas):
    cycle = [{"title": f"Engineer {n}", "score": 90 + n % 10, "provider": "Example SE",
              "url": f"https://jobs.example.com/replicas/{n}"} for n in range(10)]

    def post(bot):
        return httpx.post(f"{bot.url}/api/v1/matches", json=cycle, timeout=120,
                          headers={"Authorization": f"Bearer {API_TOKEN}"})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, replicas))
    assert all(answer.status_code in (200, 201) for answer in answers), [a.text for a in answers]
    all_settled(world, replicas)

    # the job matches; each replica's catch-up also keeps the bot's status issue (not a match)
    issues = world.project("maintainer").issues.list(get_all=True, state="all",
                                                     query_parameters={"not[labels]": "vorhoelle/status"})
    kept = [issue for issue in issues if issue.state == "opened"]
    status = world.project("maintainer").issues.list(get_all=True, labels=["vorhoelle/status"], state="opened")
    assert len(status) <= 1, "two replicas that start together keep one status issue open"
    copies = [issue for issue in issues if issue.state == "closed"]
    assert sorted(issue.title for issue in kept) == sorted(f"[JOB-MATCH] {m['score']}% — {m['title']}" for m in cycle)
    assert all(issue._links["closed_as_duplicate_of"] for issue in copies)
    for answer in answers:   # each answer names the issue kept, whoever created it
        assert {r["iid"] for r in answer.json()["results"]} == {issue.iid for issue in kept}
    scene = Scene(None, world, replicas[0], None)

    def staged_records(iid: int) -> list[str]:
        return sorted(m["channel"] for m in notified(scene, iid) if m["event"] == "staged")

    wait_until(lambda: all(staged_records(issue.iid) for issue in kept), timeout=120,
               message="every match kept to be announced")
    all_settled(world, replicas)
    for issue in issues:   # a summary message lists a few items only: count the records, and the console
        announced = (staged_records(issue.iid), outbox_items(outbox, issue.web_url))
        assert announced == ((["console", "slack"], 1) if issue.state == "opened" else ([], 0)), (issue.iid, announced)
