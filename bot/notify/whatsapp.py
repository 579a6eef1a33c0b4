"""WhatsApp through Twilio: a short text with the top match and the review link.

WhatsApp allows free text only within 24 hours of the recipient's last message. A notifier
writes first, so the default is an approved template (`content_sid`) whose variables are
{1: the summary, 2: the top match, 3: the link}; `mode: free_text` sends the rendered
`whatsapp.txt.j2` instead, which, with `inbound` on, ends with the reply codes for a new match
("Reply *A 12* to approve, …", bot/actions/twilio_inbound.py). Error 63016 (free text outside
the 24-hour window) is permanent: retrying cannot help until the configuration or the recipient
changes. The Twilio SDK does not retry and its exceptions carry no headers, so the HTTP client
keeps the last response to read `Retry-After` from.

Each recipient is a delivery target of its own (`targets`): with several, each is named
`whatsapp:<number>`, retried and recorded apart, so a failure at the second number never sends
the first one the same message again. A single recipient stays plain `whatsapp`.
"""

from __future__ import annotations

import json
from typing import Any

from bot.escape import escape_plain
from bot.notify.channel import ChannelError, required
from bot.notify.message import Message
from bot.config.settings import WhatsAppChannel

TWILIO_API = "https://api.twilio.com"
OUTSIDE_24H_WINDOW = 63016


def template_variables(message: Message) -> dict[str, str]:
    top = message.top
    if top is None:
        return {"1": escape_plain(message.text or message.subject(), 200), "2": "—", "3": message.review_url or "—"}
    score = f"{top.score}% " if top.score is not None else ""
    link = message.review_url if len(message.items) > 1 and message.review_url else top.web_url
    return {"1": ", ".join(message.counts), "2": escape_plain(f"{score}{top.title}", 200), "3": link}


def http_client(api_url: str | None, timeout: float) -> Any:
    from twilio.http.http_client import TwilioHttpClient

    class Client(TwilioHttpClient):
        """Sends to `api_url` when set (a local server in tests); remembers the last response."""

        last_response: Any = None

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if api_url and url.startswith(TWILIO_API):
                url = api_url.rstrip("/") + url[len(TWILIO_API):]
            self.last_response = super().request(method, url, *args, **kwargs)
            return self.last_response

    return Client(timeout=timeout)


def _retry_after(response: Any) -> float | None:
    value = (getattr(response, "headers", None) or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def targets(settings: WhatsAppChannel, *, timeout: float = 10) -> dict[str, "WhatsApp"]:
    """One channel per recipient, by the name its deliveries are recorded under."""
    several = len(settings.to) > 1
    return {
        name: WhatsApp(settings, number, name=name, timeout=timeout)
        for number in settings.to
        for name in [f"whatsapp:{number}" if several else "whatsapp"]
    }


class WhatsApp:
    def __init__(self, settings: WhatsAppChannel, to: str, *, name: str = "whatsapp", timeout: float = 10):
        self.settings = settings
        self.to = to
        self.name = name
        self.timeout = timeout

    def send(self, message: Message) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException
        from twilio.rest import Client

        s = self.settings
        http = http_client(s.api_url, self.timeout)
        client = Client(s.account_sid, required(s.auth_token, "auth_token"), http_client=http)
        if s.mode == "template":
            content: dict[str, Any] = {"content_sid": s.content_sid, "content_variables": json.dumps(template_variables(message))}
        else:
            content = {"body": message.render("whatsapp.txt.j2", reply_codes=s.inbound)}
        try:
            sent = client.messages.create(from_=f"whatsapp:{s.from_number}", to=f"whatsapp:{self.to}", **content)
        except TwilioRestException as exc:
            permanent = exc.code == OUTSIDE_24H_WINDOW or (400 <= exc.status < 500 and exc.status != 429)
            raise ChannelError(
                f"Twilio answered {exc.status} (error {exc.code}): {exc.msg}",
                permanent=permanent,
                retry_after=_retry_after(http.last_response),
            ) from exc
        except (TwilioException, OSError) as exc:
            raise ChannelError(f"Twilio unreachable: {exc}") from exc
        return str(sent.sid)
