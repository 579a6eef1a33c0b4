"""`vorhoelle config check` on deciding from messages: the Slack app's token and scopes (auth.test
on a local Slack) and where Twilio sends replies (the account's numbers on a local Twilio)."""

from __future__ import annotations

import pytest

from bot.config.check_actions import check_actions
from bot.config.files import ConfigError
from bot.config.project_file import parse_project_file
from bot.config.settings import load_settings
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

FROM = "+14155550100"


def slack_app(fake: FakeSlack, **over) -> dict:
    return {"channels": {"slack": {"enabled": True, "bot_token": BOT_TOKEN, "channel": "#jobs", "api_url": fake.api_url,
                                   "signing_secret": SIGNING_SECRET, **over}}}


def lines(settings) -> list[str]:
    return [str(f) for f in check_actions(settings)]


def test_slack_token_and_scopes_are_checked():
    with FakeSlack() as full, FakeSlack(scopes="chat:write") as narrow:
        mapped = {"slack_users": {"U0REVIEW1": "rita"}}
        good = lines(load_settings(notify=slack_app(full), review=mapped))
        lacking = lines(load_settings(notify=slack_app(narrow), review=mapped))
        wrong = lines(load_settings(notify=slack_app(full, bot_token="xoxb-wrong"), review=mapped))
        unmapped = lines(load_settings(notify=slack_app(full)))
        by_email = lines(load_settings(notify=slack_app(full), review={"slack_match_email": True}))

    assert good == ["✓ Slack app: @vorhoelle in Example, scopes chat:write, channels:history; interactivity "
                    "request URL: <public_url>/slack/actions"]
    assert lacking[0].startswith("✗ the Slack app's token lacks the scopes channels:history")
    assert wrong == ["✗ Slack refused the bot token: invalid_auth"]
    assert unmapped[0].startswith("! review.slack_users is empty")
    assert by_email == ["✗ the Slack app's token lacks the scopes users:read, users:read.email (add them under "
                        "OAuth & Permissions and reinstall the app; groups:history too for a private channel)"]


def test_slack_buttons_need_the_bot_token_mode():
    settings = load_settings(notify={"channels": {"slack": {"enabled": True, "webhook_url": "https://hooks.slack.example/x",
                                                            "signing_secret": SIGNING_SECRET}}},
                             review={"slack_users": {"U0REVIEW1": "rita"}})
    assert lines(settings)[0].startswith("! Slack buttons need the app's bot token")


def whatsapp(fake: FakeTwilio, **over) -> dict:
    return {"channels": {"whatsapp": {"inbound": True, "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                                      "from_number": FROM, "mode": "free_text", "api_url": fake.url, **over}}}


def test_twilio_webhook_of_the_sending_number_is_checked():
    mapped = {"whatsapp_users": {"+4915100000001": "rita"}}
    with FakeTwilio() as twilio:
        unknown = lines(load_settings(public_url="https://bot.example.org", notify=whatsapp(twilio), review=mapped))
        twilio.numbers[FROM] = "https://old.example.org/sms"
        elsewhere = lines(load_settings(public_url="https://bot.example.org", notify=whatsapp(twilio), review=mapped))
        twilio.numbers[FROM] = "https://bot.example.org/twilio/inbound"
        right = lines(load_settings(public_url="https://bot.example.org/", notify=whatsapp(twilio), review=mapped))
        no_url = lines(load_settings(notify=whatsapp(twilio), review=mapped))

    assert unknown[0].startswith(f"! {FROM} is not a phone number of this Twilio account")
    assert elsewhere == [f"✗ Twilio sends messages to {FROM} to https://old.example.org/sms; set its \"A message "
                         "comes in\" webhook to https://bot.example.org/twilio/inbound (HTTP POST)"]
    assert right == [f"✓ Twilio sends replies to {FROM} to https://bot.example.org/twilio/inbound"]
    assert no_url[0].startswith("✗ WhatsApp replies need public_url")


def test_mappings_without_their_door_are_pointed_out():
    settings = load_settings(review={"slack_users": {"U0REVIEW1": "rita"}, "whatsapp_users": {"+4915100000001": "rita"}})
    assert [line[:40] for line in lines(settings)] == [
        "! review.slack_users is set, but notify.", "! review.whatsapp_users is set, but noti",
    ]


def test_who_may_decide_from_messages_is_never_the_projects_to_say():
    text = ("review:\n  slack_users: {U0GUEST01: guest}\n  whatsapp_users: {'+4915100000002': guest}\n"
            "notify:\n  channels:\n    slack: {signing_secret: made-up}\n    whatsapp: {inbound: true}\n")
    with pytest.raises(ConfigError) as refused:
        parse_project_file(text)
    assert [line.split(": ", 1)[1].split(" ")[:3] for line in refused.value.problems] == [
        ["review.slack_users.U0GUEST01", "cannot", "be"], ["review.whatsapp_users.+4915100000002", "cannot", "be"],
        ["notify.channels.slack.signing_secret", "is", "a"], ["notify.channels.whatsapp.inbound", "cannot", "be"],
    ]
