"""Slack: Block Kit messages through an incoming webhook or `chat.postMessage` (slack-sdk).

One section block for the summary, then per event a header ("New job matches", "Approved")
and one section per match (score, linked title, provider, location, who and why) with its
Approve/Reject/Send buttons when the Slack app's interactivity is set up (bot/actions), a
"review pending" link last. Slack's limits are kept here, not hoped for: at most 50
blocks (later items are summarised in one line) and 3,000 characters per section text.
slack-sdk retries connection errors and sleeps `Retry-After` on 429 (`RateLimitErrorRetryHandler`);
an incoming webhook never raises on an error answer, so its status and body are checked here.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.escape import cut, escape_slack
from bot.notify.channel import ChannelError, required
from bot.actions.slack_blocks import match_actions
from bot.notify.message import Item, Message
from bot.config.settings import SlackChannel

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
# `chat.postMessage` errors no retry can fix (the rest — ratelimited, internal_error, ... — may pass).
PERMANENT_ERRORS = {
    "account_inactive", "channel_not_found", "invalid_auth", "invalid_blocks", "is_archived",
    "msg_too_long", "no_text", "not_authed", "not_in_channel", "restricted_action",
    "token_revoked", "missing_scope",
}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text.strip(), MAX_SECTION_CHARS - 60)}}


def _item_blocks(message: Message, item: Item, interactive: bool) -> list[dict[str, Any]]:
    blocks = [_section(message.render("item.slack.j2", item=item))]
    buttons = match_actions(item.event, item.iid, item.web_url) if interactive else None
    return blocks + ([buttons] if buttons else [])


def build_blocks(message: Message, *, interactive: bool = False) -> list[dict[str, Any]]:
    """The message as at most `MAX_BLOCKS` blocks: each match with its buttons (`interactive`,
    bot/actions/slack_blocks.py) while they fit, then one line for the rest, linking to them."""
    head = [_section(message.render("summary.slack.j2"))]
    tail = [_section(message.render("review.slack.j2"))] if message.review_url else []
    room = MAX_BLOCKS - len(head) - len(tail)
    shown = [(heading, item) for heading, items in message.groups for item in items]
    body: list[dict[str, Any]] = []
    last = None
    for index, (heading, item) in enumerate(shown):
        header = [{"type": "header", "text": {"type": "plain_text", "text": cut(heading, 150)}}] if heading != last else []
        blocks = header + _item_blocks(message, item, interactive)
        more = 1 if index < len(shown) - 1 else 0   # room for the "…and N more" line
        if len(body) + len(blocks) + more > room:
            rest = message.render("more.slack.j2", hidden=len(shown) - index).strip()
            body.append({"type": "context", "elements": [{"type": "mrkdwn", "text": rest}]})
            break
        body += blocks
        last = heading
    return head + body + tail


def _retry_handlers() -> list[Any]:
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
    )

    return [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=2)]


def _retry_after(headers: Any) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return float(value)
            except ValueError:
                return None
    return None


class Slack:
    name = "slack"

    def __init__(self, settings: SlackChannel):
        self.settings = settings

    @property
    def interactive(self) -> bool:
        """Buttons need the Slack app: its bot token (chat.update, views.open) and signing secret."""
        s = self.settings
        return s.webhook_url is None and s.bot_token is not None and s.signing_secret is not None

    def send(self, message: Message) -> str:
        blocks = build_blocks(message, interactive=self.interactive)
        text = escape_slack(message.subject())   # mrkdwn as well: the notification banner's text
        try:
            if self.settings.webhook_url is not None:
                return self._send_webhook(text, blocks)
            return self._post_message(text, blocks)
        except ChannelError:
            raise
        except Exception as exc:  # connection refused or timed out after the SDK's own retries
            raise ChannelError(f"slack unreachable: {exc}") from exc

    def _send_webhook(self, text: str, blocks: list[dict[str, Any]]) -> str:
        from slack_sdk.webhook import WebhookClient

        client = WebhookClient(
            required(self.settings.webhook_url, "webhook_url"),
            timeout=int(self.settings.timeout_seconds),
            retry_handlers=_retry_handlers(),
        )
        response = client.send(text=text, blocks=blocks)
        if response.status_code == 200 and response.body == "ok":
            return "ok"
        detail = f"webhook answered {response.status_code} {response.body!r}"
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        raise ChannelError(detail, permanent=permanent, retry_after=_retry_after(response.headers))

    def _post_message(self, text: str, blocks: list[dict[str, Any]]) -> str:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        client = WebClient(
            token=required(self.settings.bot_token, "bot_token"),
            base_url=self.settings.api_url,
            timeout=int(self.settings.timeout_seconds),
            retry_handlers=_retry_handlers(),
        )
        try:
            response = client.chat_postMessage(channel=required(self.settings.channel, "channel"), text=text, blocks=blocks)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            raise ChannelError(
                f"chat.postMessage failed: {error}",
                permanent=error in PERMANENT_ERRORS,
                retry_after=_retry_after(exc.response.headers),
            ) from exc
        return str(response.get("ts", "ok"))
