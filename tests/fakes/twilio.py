"""A local Twilio API: form posts to `/2010-04-01/Accounts/{sid}/Messages.json`, basic auth,
errors as `{code, message, more_info, status}`, and WhatsApp's 24-hour rule for free text."""

from __future__ import annotations

import base64
import itertools
import re
from typing import TYPE_CHECKING

from tests.fakes.http import Answer, FakeService, Received

if TYPE_CHECKING:
    import httpx

ACCOUNT_SID, AUTH_TOKEN = "AC" + "test" * 8, "test-auth-token"   # not hex: never a real-looking SID
_INBOUND_IDS = itertools.count(0xACE0)
_NUMBERS = re.compile(r"^/2010-04-01/Accounts/AC\w+/IncomingPhoneNumbers\.json$")
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return Answer(status, body, headers or {})


class FakeTwilio(FakeService):
    def __init__(self) -> None:
        super().__init__()
        self.open_sessions: set[str] = set()   # numbers that wrote to us within 24 hours
        self.numbers: dict[str, str | None] = {}   # the account's phone numbers -> their sms_url

    def answer(self, received: Received) -> Answer:
        if _NUMBERS.match(received.path) and received.method == "GET":
            return self._incoming_numbers(received)
        match = _MESSAGES.match(received.path)
        if not match or received.method != "POST":
            return twilio_error(404, 20404, "The requested resource was not found")
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if match["sid"] != ACCOUNT_SID or received.headers.get("authorization") != expected:
            return twilio_error(401, 20003, "Authenticate")
        form = received.form()
        if "ContentSid" not in form and form["To"] not in self.open_sessions:
            return twilio_error(400, 63016, "Failed to send freeform message because you are outside the allowed window.")
        sid = f"SM{len(self.requests):032x}"
        return Answer(201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"], "from": form["From"],
                            "body": form.get("Body", ""), "status": "queued", "error_code": None})

    def _incoming_numbers(self, received: Received) -> Answer:
        wanted = received.query.get("PhoneNumber", [None])[0]
        found = [{"sid": f"PN{n:032x}", "phone_number": number, "sms_url": url, "sms_method": "POST"}
                 for n, (number, url) in enumerate(self.numbers.items()) if wanted in (None, number)]
        return Answer(200, {"incoming_phone_numbers": found, "next_page_uri": None, "previous_page_uri": None,
                            "page": 0, "page_size": 50, "start": 0, "end": len(found), "uri": received.path,
                            "first_page_uri": received.path})

    def sent(self) -> list[dict[str, str]]:
        return [r.form() for r in self.delivered()]


# -- Twilio's messaging webhook: what it sends when someone writes to the bot's number ---------


def inbound(bot_url: str, public_url: str, sender: str, body: str, *, message_sid: str | None = None,
            token: str = AUTH_TOKEN, signature: str | None = None) -> "httpx.Response":
    """POST an incoming WhatsApp message to the bot as Twilio does: form fields, and
    X-Twilio-Signature over the URL Twilio called (`public_url`) plus the sorted fields."""
    import httpx
    from twilio.request_validator import RequestValidator

    sid = message_sid or f"SM{next(_INBOUND_IDS):032x}"
    form = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{sender}",
            "To": "whatsapp:+14155550100", "Body": body, "NumMedia": "0", "ProfileName": "Made-up Person",
            "WaId": sender.lstrip("+"), "ApiVersion": "2010-04-01"}
    url = f"{public_url.rstrip('/')}/twilio/inbound"
    signed = signature if signature is not None else RequestValidator(token).compute_signature(url, form)
    return httpx.post(f"{bot_url}/twilio/inbound", data=form, headers={"X-Twilio-Signature": signed}, timeout=30)
