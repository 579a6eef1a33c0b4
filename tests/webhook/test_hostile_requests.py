"""Requests an attacker can send without knowing any secret, or with an empty one (issue 13,
hole 5): over HTTP to the running bot, each refused with a status and a reason, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support.bot import bot_settings
from tests.support.botserver import running_bot, served_bot_settings
from tests.webhook.test_receiver import headers

API_TOKEN = "made-up-api-token-for-hostile-requests"
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


@pytest.fixture
def bot(world):
    with running_bot(served_bot_settings(world, api_token=API_TOKEN)) as running:
        yield running


@pytest.mark.parametrize("secret", ["", "   "])
def test_an_empty_webhook_secret_is_no_secret_and_an_empty_token_is_never_accepted(world, secret):
    settings = bot_settings(world, webhook_secret=secret)  # as VORHOELLE_WEBHOOK_SECRET= would give it
    assert settings.webhook_secret is None
    with running_bot(settings) as bot:
        answer = httpx.post(bot.webhook_url, json={"object_kind": "issue"}, headers=headers(token=""), timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"] == "the bot has no webhook secret"


def test_an_empty_token_is_refused_even_where_a_secret_is_set(bot):
    answer = httpx.post(bot.webhook_url, json={"object_kind": "issue"}, headers=headers(token=""), timeout=10)
    assert (answer.status_code, answer.json()["error"]) == (401, "missing X-Gitlab-Token")


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["list", "object"])
def test_deeply_nested_json_on_the_webhook_is_400_with_a_reason(bot, body):
    answer = httpx.post(bot.webhook_url, content=body, headers=headers(), timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "body is nested too deeply"


@pytest.mark.parametrize("method, path", [("POST", "/matches"), ("PUT", "/config"), ("PATCH", "/matches/1")])
def test_deeply_nested_json_on_the_api_is_400_with_a_reason(bot, method, path):
    auth = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    for body, detail in [(DEEP, "nested too deeply to parse"), (b'{"settings":' + b"[" * 200 + b"]" * 200 + b"}",
                                                                 "nested more than 32 levels deep")]:
        answer = httpx.request(method, f"{bot.url}/api/v1{path}", content=body, headers=auth, timeout=30)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid JSON" and detail in answer.json()["detail"]
