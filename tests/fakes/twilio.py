"""A local Twilio API: form posts to `/2010-04-01/Accounts/{sid}/Messages.json`, basic auth,
errors as `{code, message, more_info, status}`, and WhatsApp's 24-hour rule for free text."""

from __future__ import annotations

import base64
import re

from tests.fakes.http import Answer, FakeService, Received

ACCOUNT_SID, AUTH_TOKEN = "AC" + "test" * 8, "test-auth-token"   # not hex: never a real-looking SID
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


def twilio_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return Answer(status, body, headers or {})


class FakeTwilio(FakeService):
    def __init__(self) -> None:
        super().__init__()
        self.open_sessions: set[str] = set()   # numbers that wrote to us within 24 hours

    def answer(self, received: Received) -> Answer:
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

    def sent(self) -> list[dict[str, str]]:
        return [r.form() for r in self.delivered()]
