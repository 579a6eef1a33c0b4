"""Listing, reading and acting on staged matches through the API; the config view."""

from __future__ import annotations

from bot.markers import parse_markers
from tests.staging.conftest import API_TOKEN, match


def stage(api, *matches):
    return [r["iid"] for r in api.post("/matches", json=list(matches)).json()["results"]]


def test_list_filters_by_state_and_score_newest_first(world, api):
    low, high, mid = stage(api, match("Low", 71), match("High", 96), match("Mid", 84))
    world.project("reviewer").issues.update(mid, {"add_labels": "job-match/approved",
                                                   "remove_labels": "job-match/pending"})

    everything = api.get("/matches").json()
    pending = api.get("/matches", params={"state": "pending"}).json()
    good = api.get("/matches", params={"min_score": 80}).json()

    assert [m["iid"] for m in everything["items"]] == [mid, high, low]
    assert everything["total"] == 3
    assert [m["iid"] for m in pending["items"]] == [high, low]
    assert [(m["iid"], m["score"]) for m in good["items"]] == [(mid, 84), (high, 96)]
    assert good["total"] == 2
    first = everything["items"][0]
    assert (first["state"], first["gitlab_state"], first["title"]) == ("approved", "opened", "[JOB-MATCH] 84% — Mid")
    assert first["assignees"] == [world.users["reviewer"]["username"]]


def test_list_pages_with_totals(world, api):
    stage(api, *(match(f"Job {n}", 80 + n) for n in range(5)))

    pages = [api.get("/matches", params={"per_page": 2, "page": p}).json() for p in (1, 2, 3)]
    scored = [api.get("/matches", params={"per_page": 2, "page": p, "min_score": 82}).json() for p in (1, 2)]

    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [(p["total"], p["total_pages"], p["next_page"]) for p in pages] == [(5, 3, 2), (5, 3, 3), (5, 3, None)]
    assert [[m["score"] for m in p["items"]] for p in scored] == [[84, 83], [82]]
    assert (scored[0]["total"], scored[0]["next_page"], scored[1]["next_page"]) == (3, 2, None)


def test_list_refuses_bad_queries_precisely(api):
    for params, field in (({"state": "maybe"}, "state"), ({"min_score": "high"}, "min_score"),
                          ({"per_page": 500}, "per_page"), ({"colour": "red"}, "colour")):
        answer = api.get("/matches", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["details"][0]["loc"] == [field]


def test_one_match_and_404_for_other_issues(world, api):
    [iid] = stage(api, match("Kubernetes Engineer", 90))
    plain = world.project("maintainer").issues.create({"title": "Not a job"})

    found = api.get(f"/matches/{iid}")
    other = api.get(f"/matches/{plain.iid}")
    missing = api.get("/matches/9999")

    assert found.status_code == 200
    assert (found.json()["score"], found.json()["state"]) == (90, "pending")
    assert "Kubernetes Engineer" in found.json()["description"]
    assert (other.status_code, other.json()["error"]) == (404, "not a job match")
    assert missing.status_code == 404 and missing.json()["error"]


def test_approve_then_send_through_the_workflow(world, api):
    [iid] = stage(api, match("Python Lead", 95))

    approved = api.patch(f"/matches/{iid}", json={"action": "approve", "reason": "great fit"})
    sent = api.post(f"/matches/{iid}/send")

    assert approved.status_code == 200, approved.text
    assert (approved.json()["outcome"], approved.json()["match"]["state"]) == ("applied", "approved")
    assert (sent.json()["outcome"], sent.json()["match"]["state"]) == ("applied", "sent")
    labels = set(world.project("maintainer").issues.get(iid).labels)
    assert "job-match/sent" in labels and "job-match/approved" not in labels


def test_a_refused_action_answers_409_and_changes_nothing(world, api):
    [iid] = stage(api, match("Go Developer", 80))

    answer = api.post(f"/matches/{iid}/send")

    assert answer.status_code == 409, answer.text
    assert (answer.json()["outcome"], answer.json()["match"]["state"]) == ("refused", "pending")
    assert answer.json()["why"]


def test_a_retried_request_is_applied_once(world, api):
    [iid] = stage(api, match("Rust Developer", 85))
    headers = {"Idempotency-Key": "reject-rust-1"}

    first = api.patch(f"/matches/{iid}", json={"action": "reject", "reason": "too junior"}, headers=headers)
    again = api.patch(f"/matches/{iid}", json={"action": "reject", "reason": "too junior"}, headers=headers)

    assert first.json()["outcome"] == "applied" and again.json()["outcome"] == "already handled"
    assert again.json()["match"]["state"] == "rejected"
    notes = world.project("maintainer").issues.get(iid).notes.list(get_all=True)
    answering = [n for n in notes if any(m.kind == "transition" and m.source == "api:reject-rust-1"
                                           for m in parse_markers(n.body))]
    assert len(answering) == 1 and "too junior" in answering[0].body


def test_an_invalid_action_is_named(api):
    [iid] = stage(api, match("Java Developer", 85))

    answer = api.patch(f"/matches/{iid}", json={"action": "delete"})

    assert answer.status_code == 422
    assert answer.json()["details"][0]["loc"] == ["action"]


def test_config_shows_settings_without_secrets(api, world):
    answer = api.get("/config")

    assert answer.status_code == 200
    body = answer.json()
    assert body["staging"]["threshold"] == 70 and body["project"] == world.path
    text = answer.text
    assert API_TOKEN not in text and world.users["bot"]["token"] not in text
    assert body["api_token"] == body["gitlab_token"] == "**********"
