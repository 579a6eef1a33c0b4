"""The Slack Web API calls deciding in Slack needs, through slack-sdk: read a message, update it,
answer one person (ephemeral), open the reason modal, and read a profile's e-mail. `api_url` points it at
a Slack-compatible server (tests use a local one). A failing call is logged and swallowed: the
decision is already in GitLab, which is what counts.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.config.settings import SlackChannel

log = logging.getLogger(__name__)


class SlackApi:
    def __init__(self, settings: SlackChannel):
        from slack_sdk import WebClient

        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        self.client = WebClient(token=token, base_url=settings.api_url, timeout=int(settings.timeout_seconds))

    def _call(self, method: str, **args: Any) -> Any:
        from slack_sdk.errors import SlackApiError

        try:
            return getattr(self.client, method)(**args)
        except SlackApiError as error:
            log.warning("Slack %s failed: %s", method, error.response.get("error", "unknown_error"))
        except Exception as error:  # unreachable: the decision stands; only Slack's view of it lags
            log.warning("Slack %s failed: %s", method, error)
        return None

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message at `ts` (scope channels:history; groups:history in private channels)."""
        found = self._call("conversations_history", channel=channel, latest=ts, inclusive=True, limit=1)
        messages = found.get("messages", []) if found else []
        return messages[0] if messages and messages[0].get("ts") == ts else None

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def tell(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees."""
        self._call("chat_postEphemeral", channel=channel, user=user, text=text)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views_open", trigger_id=trigger_id, view=view)

    def confirmed_email(self, user: str) -> str | None:
        """The user's e-mail, when Slack says it is confirmed (scope users:read.email)."""
        found = self._call("users_info", user=user)
        person = (found.get("user") or {}) if found else {}
        email = (person.get("profile") or {}).get("email")
        return email if person.get("is_email_confirmed") and isinstance(email, str) else None
