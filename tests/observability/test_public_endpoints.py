"""What the bot's public endpoints tell someone without a token (issue 13, public endpoints):
the health probes say the status alone, and /metrics can be closed with `server.metrics_token`."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from bot.status import last_catch_up
from tests.support.botserver import API_TOKEN, ready, running_bot, served_bot_settings

METRICS_TOKEN = "made-up-metrics-token"


def test_health_says_the_status_alone_unless_the_api_token_comes_with_it(world):
    with running_bot(served_bot_settings(world)) as bot:
        assert httpx.get(f"{bot.url}/health/live").json() == {"status": "live"}
        assert httpx.get(f"{bot.url}/health/ready").json() == {"status": "ready"}
        wrong = httpx.get(f"{bot.url}/health/ready", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.json() == {"status": "ready"}
        details = ready(bot.url).json()
        assert (details["project"], details["gitlab"]) == (world.path, world.url)


def test_a_failing_ready_says_not_ready_alone_unless_the_api_token_comes_with_it(world):
    settings = served_bot_settings(world).model_copy(update={"gitlab_token": SecretStr("made-up-and-invalid")})
    with running_bot(settings) as bot:
        anonymous = httpx.get(f"{bot.url}/health/ready")
        assert (anonymous.status_code, anonymous.json()) == (503, {"status": "not ready"})
        assert ready(bot.url).json()["error"] == "the GitLab token is not valid (expired or revoked?)"


def test_metrics_need_the_metrics_token_when_one_is_set(world):
    settings = served_bot_settings(world, server={"metrics_token": METRICS_TOKEN})
    with running_bot(settings) as bot:
        anonymous = httpx.get(f"{bot.url}/metrics")
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
        assert httpx.get(f"{bot.url}/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 401
        scraped = httpx.get(f"{bot.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "vorhoelle_queue_depth" in scraped.text
        # `vorhoelle status` finds the last catch-up with the tokens it has.
        assert not last_catch_up(bot.url, settings).startswith("unknown")
        assert not last_catch_up(bot.url, settings.model_copy(update={"api_token": None})).startswith("unknown")


def test_metrics_stay_open_without_a_metrics_token(world):
    with running_bot(served_bot_settings(world)) as bot:
        assert httpx.get(f"{bot.url}/metrics").status_code == 200
