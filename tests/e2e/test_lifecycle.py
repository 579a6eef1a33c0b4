"""One application's whole life, end to end: staged through the API, reviewed and sent with
comments, then a reply, two interview rounds, an offer and the outcome — by comment, label, the
API and the CLI, as a developer, and as a guest who is refused. The history notes, the timeline
API and the issue itself (labels, closed, due date) agree."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli import main
from bot.markers import parse_markers
from tests.e2e.conftest import Scene
from tests.history.chromium import Chromium, find_binary
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import World

API_TOKEN = "lifecycle-api-token"


@pytest.fixture
def life(sandbox: Any, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Scene]:
    """A served bot with its API token, and the CLI's environment for the same project."""
    monkeypatch.chdir(tmp_path)
    for name, value in {"GITLAB_URL": world.url, "GITLAB_TOKEN": world.users["bot"]["token"],
                        "PROJECT": str(world.project_id)}.items():
        monkeypatch.setenv(f"VORHOELLE_{name}", value)
    monkeypatch.delenv("VORHOELLE_CONFIG", raising=False)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    with running_bot(served_bot_settings(world, api_token=API_TOKEN)) as bot:
        yield Scene(sandbox, world, bot, install_hook_for(bot, world))


def api(scene: Scene, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_TOKEN}", **(headers or {})}
    return httpx.request(method, f"{scene.bot.url}/api/v1{path}", headers=headers, timeout=30, **kwargs)


def stage(scene: Scene, title: str) -> int:
    answer = api(scene, "POST", "/matches", json={
        "title": title, "score": 91, "provider": "Nordlicht Payments GmbH", "url": f"https://jobs.example.com/{title}",
    })
    assert answer.status_code == 201, answer.text
    return answer.json()["results"][0]["iid"]


def say(scene: Scene, iid: int, body: str, role: str = "reviewer") -> None:
    scene.issue(iid, role).notes.create({"body": body})


def steps(scene: Scene, iid: int) -> list[dict[str, Any]]:
    bot_id = scene.world.users["bot"]["id"]
    notes = scene.issue(iid).notes.list(get_all=True, sort="asc", order_by="created_at")
    return [{"kind": m.kind, **m.data} for n in notes if n.author["id"] == bot_id
            for m in parse_markers(n.body) if m.kind in ("transition", "refusal")]


def wait_for_steps(scene: Scene, iid: int, count: int) -> list[dict[str, Any]]:
    wait_until(lambda: len(steps(scene, iid)) >= count, message=f"#{iid} to have {count} history notes")
    scene.settle()
    return steps(scene, iid)


def sent_match(scene: Scene, title: str) -> int:
    iid = stage(scene, title)
    scene.settle()
    say(scene, iid, "/accept")
    wait_for_steps(scene, iid, 1)
    say(scene, iid, "/send mailed the CV")
    wait_for_steps(scene, iid, 2)
    return iid


def test_one_application_from_staging_to_hired(life: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    scene = life
    iid = sent_match(scene, "Senior Python Developer")
    say(scene, iid, "/reply They would like to talk")
    wait_for_steps(scene, iid, 3)
    say(scene, iid, "/interview 2026-12-10 14:00 with the hiring manager; video call")
    wait_for_steps(scene, iid, 4)
    assert scene.issue(iid).due_date == "2026-12-10"
    outbox = Path("vorhoelle-outbox.jsonl")  # the console channel, told in the reviewer's time zone
    wait_until(lambda: "When: Thu 10 Dec 2026, 14:00 (Europe/Berlin), with the hiring manager" in outbox.read_text(),
               message="the round announced on the console")

    say(scene, iid, "/interview 2026-12-11 10:00", role="guest")  # a guest may comment, not move it
    refused = wait_for_steps(scene, iid, 5)[-1]
    assert refused["kind"] == "refusal" and refused["refused"] == ["no_right"]

    second = api(scene, "PATCH", f"/matches/{iid}", headers={"Idempotency-Key": "round-2"},
                 json={"action": "interview", "when": "12.12. 9:30", "with": "the CTO"})
    assert second.status_code == 200 and second.json()["outcome"] == "applied", second.text
    scene.settle()
    assert scene.issue(iid).due_date == "2026-12-12"
    bad = api(scene, "PATCH", f"/matches/{iid}", json={"action": "interview", "when": "soon-ish"})
    assert bad.status_code == 409 and bad.json()["why"] == "bad_time"
    assert api(scene, "PATCH", f"/matches/{iid}", json={"action": "offer"}).status_code == 422

    assert main(["offer", str(iid), "95 €/h, start 1 February, 6 months", "--as", "Ada"]) == 0
    assert f"#{iid}: interview → offer (offer recorded)" in capsys.readouterr().out
    scene.settle()
    scene.world.project("reviewer").issues.update(iid, {"add_labels": "job-match/hired",
                                                       "remove_labels": "job-match/offer"})
    wait_until(lambda: scene.issue(iid).state == "closed", message="the hired match's issue to close")
    scene.settle()

    history = steps(scene, iid)
    moves = [(s.get("happened") or s.get("to"), s["channel"]) for s in history if s["kind"] == "transition"]
    assert moves == [("approved", "comment"), ("sent", "comment"), ("reply", "comment"), ("round", "comment"),
                     ("round", "api"), ("offer", "api"), ("hired", "label")]
    issue = scene.issue(iid)
    assert issue.state == "closed" and scene.state_labels(iid) == set() and "job-match/hired" in issue.labels
    assert issue.due_date is None

    timeline = api(scene, "GET", f"/matches/{iid}/timeline").json()
    kinds = [e["kind"] for e in timeline["events"]]
    assert kinds == ["staged", "approved", "sent", "reply", "round", "round", "offer", "hired"]
    assert timeline["state"] == "hired"
    rounds = [e for e in timeline["events"] if e["kind"] == "round"]
    assert [(r["round"], r["with"], r["when"]) for r in rounds] == [
        (1, "the hiring manager", "2026-12-10T14:00:00+01:00"), (2, "the CTO", "2026-12-12T09:30:00+01:00")]
    assert rounds[0]["who"] and rounds[1]["via"] == "api" and timeline["events"][-1]["via"] == "label"

    assert main(["timeline", str(iid)]) == 0
    printed = capsys.readouterr().out
    assert "round 2 on 2026-12-12 09:30" in printed and "with the CTO" in printed
    agree_with_the_export_and_dashboard(iid, kinds, Path("public"))

    issue = scene.issue(iid, "reviewer")  # reopened by hand: back to the offer
    issue.state_event = "reopen"
    issue.save()
    wait_until(lambda: "job-match/offer" in scene.issue(iid).labels, message="the reopened match back at offer")


def agree_with_the_export_and_dashboard(iid: int, kinds: list[str], site: Path) -> None:
    """The CSV, dashboard.json and the dashboard in Chromium tell the timeline the API told."""
    assert main(["export", "--csv", "applications.csv", "--json", "dashboard.json", "--site", str(site)]) == 0
    with open("applications.csv", encoding="utf-8-sig", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Application ID"] == str(iid))
    assert (row["Status"], row["Last event type"]) == ("hired", "hired")
    dashboard = json.loads(Path("dashboard.json").read_text(encoding="utf-8"))
    app = next(a for a in dashboard["applications"] if a["issue_iid"] == iid)
    assert [e["kind"] for e in app["timeline"]] == kinds
    assert dashboard["states"]["hired"] == 1 and dashboard["states"]["declined"] == 0
    binary = find_binary()
    if binary is None:
        return  # tests/history/test_dashboard_browser.py says why it is skipped; the rest was checked
    browser = Chromium(binary, str(Path("chromium-profile").resolve()))
    try:
        session = browser.open_page((site / "index.html").resolve().as_uri())
        shown = browser.evaluate(session, f"""Array.from(document.querySelectorAll('#applications tbody tr'))
          .filter(r => r.cells[0].textContent.trim() === '#{iid}')
          .map(r => Array.from(r.querySelectorAll('.timeline li')).map(li => li.dataset.kind))[0]""")
        hired = browser.evaluate(session, "document.querySelector('[data-state=\"hired\"] b').textContent")
    finally:
        browser.close()
    assert shown == kinds and hired == "1"


@pytest.mark.parametrize("how", ["comment", "api", "cli"])
def test_the_other_outcomes_close_the_issue_with_their_reason(life: Scene, how: str) -> None:
    scene = life
    iid = sent_match(scene, f"Platform Engineer {how}")
    if how == "comment":
        say(scene, iid, "/decline the rate is too low")
        state = "declined"
    elif how == "api":
        answer = api(scene, "PATCH", f"/matches/{iid}", json={"action": "turned-down", "reason": "no Go experience"})
        assert answer.status_code == 200 and answer.json()["match"]["state"] == "turned-down"
        state = "turned-down"
    else:
        assert main(["withdraw", str(iid), "--reason", "took another offer"]) == 0
        state = "withdrawn"
    wait_until(lambda: scene.issue(iid).state == "closed", message=f"#{iid} to close")
    scene.settle()
    last = steps(scene, iid)[-1]
    assert last["to"] == state and last["text"]
    assert f"job-match/{state}" in scene.issue(iid).labels


def test_api_refuses_a_guest_like_action_it_cannot_record(life: Scene) -> None:
    iid = stage(life, "Data Engineer")
    answer = api(life, "PATCH", f"/matches/{iid}", json={"action": "reply", "reason": "hello"})
    assert answer.status_code == 409 and answer.json()["why"] == "not_recorded"
    assert api(life, "PATCH", f"/matches/{iid}", json={"action": "reply", "when": "x", "reason": "y"}).status_code == 422
