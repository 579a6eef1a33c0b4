"""`vorhoelle config check` for deciding from messages: the Slack app (bot-token mode, its token
and scopes, asked with `auth.test`) and WhatsApp replies (auth token, public_url, the address
Twilio must call, asked of Twilio for the sending number). Each finding says what to set.
"""

from __future__ import annotations

from typing import Any

from bot.config.check import Finding, error, ok, warning
from bot.config.files import ENV_PREFIX

# chat:write posts and updates; channels:history reads the message back after the reason modal.
SLACK_SCOPES = ("chat:write", "channels:history")
EMAIL_SCOPES = ("users:read", "users:read.email")   # review.slack_match_email: users.info with the e-mail


def check_actions(settings: Any, *, offline: bool = False) -> list[Finding]:
    return _check_slack(settings, offline) + _check_twilio(settings, offline)


def _check_slack(settings: Any, offline: bool) -> list[Finding]:
    slack, mapped = settings.notify.channels.slack, settings.review.slack_users
    if slack.signing_secret is None:
        return [warning("review.slack_users is set, but notify.channels.slack.signing_secret is not: Slack "
                        f"messages carry no buttons; set {ENV_PREFIX}SLACK_SIGNING_SECRET")] if mapped else []
    found: list[Finding] = []
    app = slack.bot_token is not None and slack.webhook_url is None
    if not app:
        found.append(warning("Slack buttons need the app's bot token (bot_token and channel, no webhook_url): "
                             "the bot updates its messages and opens the reason modal with it"))
    if not (mapped or settings.review.slack_match_email):
        found.append(warning("review.slack_users is empty: every press is answered \"I don't know you in GitLab\"; "
                             "map Slack user ids to GitLab usernames, e.g. {U0123ABC: rita}"))
    if offline or not app:
        return found
    scopes = SLACK_SCOPES + (EMAIL_SCOPES if settings.review.slack_match_email else ())
    return found + [_slack_token(slack, scopes)]


def _slack_token(slack: Any, scopes: tuple[str, ...]) -> Finding:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=slack.bot_token.get_secret_value(), base_url=slack.api_url, timeout=10)
    try:
        answer = client.auth_test()
    except SlackApiError as failed:
        return error(f"Slack refused the bot token: {failed.response.get('error', 'unknown_error')}")
    except Exception as failed:  # unreachable
        return error(f"Slack at {slack.api_url} cannot be reached: {failed}")
    granted = {s.strip() for s in str(answer.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    missing = [s for s in scopes if s not in granted]
    if missing:
        return error(f"the Slack app's token lacks the scopes {', '.join(missing)} (add them under OAuth & "
                     "Permissions and reinstall the app; groups:history too for a private channel)")
    return ok(f"Slack app: @{answer.get('user')} in {answer.get('team')}, scopes {', '.join(scopes)}; "
              "interactivity request URL: <public_url>/slack/actions")


def _check_twilio(settings: Any, offline: bool) -> list[Finding]:
    whatsapp, mapped = settings.notify.channels.whatsapp, settings.review.whatsapp_users
    if not whatsapp.inbound:
        return [warning("review.whatsapp_users is set, but notify.channels.whatsapp.inbound is off: replies "
                        "are not read")] if mapped else []
    found: list[Finding] = []
    if whatsapp.auth_token is None:
        found.append(error(f"WhatsApp replies need the Twilio auth token (to check each request's signature); "
                           f"set {ENV_PREFIX}TWILIO_AUTH_TOKEN"))
    if not settings.public_url:
        found.append(error(f"WhatsApp replies need public_url: Twilio signs the address it calls; set "
                           f"{ENV_PREFIX}PUBLIC_URL"))
    if not mapped:
        found.append(warning("review.whatsapp_users is empty: every reply is answered \"I don't know you\""))
    if whatsapp.mode == "template":
        found.append(warning("whatsapp mode is template: an approved template carries no reply codes; "
                             "people must know to answer \"A <number>\" (or use mode: free_text)"))
    if offline or any(f.level == "error" for f in found):
        return found
    if not (whatsapp.account_sid and whatsapp.from_number):
        return found + [warning("set notify.channels.whatsapp.account_sid and from_number to check where Twilio "
                                "sends the replies")]
    return found + [_twilio_webhook(whatsapp, settings.public_url.rstrip("/") + "/twilio/inbound")]


def _twilio_webhook(whatsapp: Any, wanted: str) -> Finding:
    """Where Twilio sends messages to the sending number, when that number is the account's."""
    from twilio.base.exceptions import TwilioException
    from twilio.rest import Client

    from bot.notify.whatsapp import http_client

    client = Client(whatsapp.account_sid, whatsapp.auth_token.get_secret_value(),
                    http_client=http_client(whatsapp.api_url, 10))
    try:
        numbers = client.incoming_phone_numbers.list(phone_number=whatsapp.from_number, limit=1)
    except (TwilioException, OSError) as failed:
        return error(f"Twilio cannot be asked about {whatsapp.from_number}: {failed}")
    if not numbers:
        return warning(f"{whatsapp.from_number} is not a phone number of this Twilio account (a WhatsApp "
                       f"sender or the sandbox?): set its \"A message comes in\" webhook to {wanted} (HTTP POST)")
    if numbers[0].sms_url != wanted:
        return error(f"Twilio sends messages to {whatsapp.from_number} to {numbers[0].sms_url or 'nowhere'}; "
                     f"set its \"A message comes in\" webhook to {wanted} (HTTP POST)")
    return ok(f"Twilio sends replies to {whatsapp.from_number} to {wanted}")
