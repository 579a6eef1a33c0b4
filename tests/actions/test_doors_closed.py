"""Without the Slack app's signing secret or WhatsApp's `inbound`, both doors stay shut."""

from __future__ import annotations

import httpx

from tests.fakes.slack import signed
from tests.support.botserver import running_bot, served_bot_settings


def test_both_routes_answer_404_until_configured(world):
    with running_bot(served_bot_settings(world)) as bot:
        slack = httpx.post(f"{bot.url}/slack/actions", content="payload=%7B%7D", headers=signed("payload=%7B%7D"))
        twilio = httpx.post(f"{bot.url}/twilio/inbound", data={"Body": "A 1"})

    assert (slack.status_code, slack.json()["error"]) == (404, "Slack interactivity is off")
    assert (twilio.status_code, twilio.json()["error"]) == (404, "WhatsApp replies are off")
