"""Bad input and bad credentials get precise JSON errors, and change nothing in GitLab."""

from __future__ import annotations

import base64

import pytest

from bot.config.settings import load_settings
from tests.staging.conftest import QUIET_NOTIFY, api_client, issues_in, match
from tests.support.botserver import running_bot


def problems(answer):
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "invalid match"
    return {tuple(d["loc"]): d["msg"] for d in body["details"]}


def test_each_invalid_field_is_named(world, api):
    bad = match(title="", score=120, rate={"amount": -5}, requirements=[{"requirement": "Go", "met": "maybe"}])

    found = problems(api.post("/matches", json=bad))

    assert set(found) == {("title",), ("score",), ("rate", "amount"), ("requirements", 0, "met")}
    assert "100" in found[("score",)]
    assert issues_in(world) == []


def test_a_boolean_is_not_a_score(world, api):
    found = problems(api.post("/matches", json=match(score=True)))

    assert set(found) == {("score",)} and "not true/false" in found[("score",)]
    assert issues_in(world) == []


def test_in_a_cycle_the_position_is_named_and_nothing_is_staged(world, api):
    found = problems(api.post("/matches", json=[match(), {"title": "No score"}, match(attachments=[{"name": "x", "content": "%%%"}])]))

    assert found == {(1, "score"): "Field required", (2, "attachments", 0, "content"): "Value error, is not valid base64"}
    assert issues_in(world) == []


@pytest.mark.parametrize("body", [[], "a string", 42])
def test_not_a_match_at_all(api, body):
    answer = api.post("/matches", json=body)

    assert answer.status_code == 422 and answer.json()["details"]


def test_a_lone_surrogate_is_refused_not_crashed_on(world, api):
    body = '{"title": "Kobold \\ud800", "score": 80}'.encode()

    answer = api.post("/matches", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 422 and answer.json()["error"] == "invalid match"
    assert issues_in(world) == []


def test_a_body_that_is_not_json(api):
    answer = api.post("/matches", content=b"{not json", headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid JSON"


def test_a_body_over_the_limit_is_refused(world):
    from tests.staging.conftest import settings_for

    with running_bot(settings_for(world, server={"max_body_bytes": 1000})) as bot, api_client(bot) as api:
        answer = api.post("/matches", json=match(notes="x" * 2000))
    assert answer.status_code == 413


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_without_the_right_token_every_route_says_401(bot, token):
    with api_client(bot, token) as api:
        answers = [api.post("/matches", json=match()), api.get("/matches"), api.get("/matches/1"),
                   api.patch("/matches/1", json={"action": "approve"}), api.post("/matches/1/send"),
                   api.get("/config")]
    for answer in answers:
        assert answer.status_code == 401, answer.request.url
        assert answer.json()["error"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bearer_header_of_another_scheme_is_refused(bot):
    with api_client(bot, None) as api:
        answer = api.get("/config", headers={"Authorization": "Basic dGVzdA=="})
    assert answer.status_code == 401


def test_without_a_configured_token_the_api_explains_how_to_set_one(world):
    settings = load_settings(gitlab_url=world.url, gitlab_token=world.users["bot"]["token"],
                             project=world.path, notify=QUIET_NOTIFY)
    with running_bot(settings) as bot, api_client(bot, "anything") as api:
        answer = api.get("/matches")
    assert answer.status_code == 503
    assert "VORHOELLE_API_TOKEN" in answer.json()["detail"]


def test_gitlab_failing_part_way_through_a_cycle_names_what_was_staged_and_what_was_not(world, bot, api, sandbox):
    from bot.sandbox.control import SandboxControl

    first, second = match(title="Staged before"), match(title="Also staged before")
    assert api.post("/matches", json=[first, second]).status_code == 201
    cv = {"name": "cv.pdf", "content": base64.b64encode(b"%PDF-1.4 made-up CV").decode()}
    cycle = [first, second, match(title="Hit by the failure", attachments=[cv]), match(title="Never reached")]
    with SandboxControl(sandbox.url, sandbox.root_token) as control:   # uploads fail, nothing else
        control.faults(error_rate=1.0, statuses={"500": 1}, paths=["*/uploads"])
        try:
            answer = api.post("/matches", json=cycle)
        finally:
            control.faults()

    assert answer.status_code == 502, answer.text
    body = answer.json()
    assert body["error"] == "GitLab failed part-way through the cycle" and "500" in body["detail"]
    assert [(r["title"], r["outcome"]) for r in body["results"]] == [
        ("Staged before", "unchanged"), ("Also staged before", "unchanged"),
        ("Hit by the failure", "not_staged"), ("Never reached", "not_staged")]
    assert (body["unchanged"], body["not_staged"], body["created"]) == (2, 2, 0)
    assert "send it again" in body["results"][3]["reason"]

    again = api.post("/matches", json=cycle)   # the engine sends the cycle again once GitLab is back
    assert again.status_code == 201
    assert [r["outcome"] for r in again.json()["results"]] == ["unchanged", "unchanged", "created", "created"]
    assert len(issues_in(world)) == 4
