"""Bad input and bad credentials get precise JSON errors, and change nothing in GitLab."""

from __future__ import annotations

import pytest

from bot.settings import load_settings
from tests.staging.conftest import QUIET_NOTIFY, api_client, match
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
    assert world.project("maintainer").issues.list(get_all=True) == []


def test_a_boolean_is_not_a_score(world, api):
    found = problems(api.post("/matches", json=match(score=True)))

    assert set(found) == {("score",)} and "not true/false" in found[("score",)]
    assert world.project("maintainer").issues.list(get_all=True) == []


def test_in_a_cycle_the_position_is_named_and_nothing_is_staged(world, api):
    found = problems(api.post("/matches", json=[match(), {"title": "No score"}, match(attachments=[{"name": "x", "content": "%%%"}])]))

    assert found == {(1, "score"): "Field required", (2, "attachments", 0, "content"): "Value error, is not valid base64"}
    assert world.project("maintainer").issues.list(get_all=True) == []


@pytest.mark.parametrize("body", [[], "a string", 42])
def test_not_a_match_at_all(api, body):
    answer = api.post("/matches", json=body)

    assert answer.status_code == 422 and answer.json()["details"]


def test_a_lone_surrogate_is_refused_not_crashed_on(world, api):
    body = '{"title": "Kobold \\ud800", "score": 80}'.encode()

    answer = api.post("/matches", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 422 and answer.json()["error"] == "invalid match"
    assert world.project("maintainer").issues.list(get_all=True) == []


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
