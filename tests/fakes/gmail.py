"""A local Gmail API: `POST /gmail/v1/users/{userId}/messages/send` with a base64url MIME `raw`."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage

from tests.fakes.http import Answer, FakeService, Received

TOKEN = "ya29.test-token"
SEND_PATH = "/gmail/v1/users/me/messages/send"


def google_error(code: int, reason: str, message: str) -> Answer:
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
    body = {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}], "status": status.get(code, "INTERNAL")}}  # noqa: E501
    return Answer(code, body)


class FakeGmail(FakeService):
    @property
    def api_endpoint(self) -> str:
        return f"{self.url}/"

    def answer(self, received: Received) -> Answer:
        if received.path != SEND_PATH or received.method != "POST":
            return google_error(404, "notFound", "Not Found")
        if received.headers.get("authorization") != f"Bearer {TOKEN}":
            return google_error(401, "authError", "Invalid Credentials")
        n = len(self.requests)
        return Answer(200, {"id": f"18c0ffee{n:04d}", "threadId": f"18c0ffee{n:04d}", "labelIds": ["SENT"]})

    def mails(self) -> list[EmailMessage]:
        """Every accepted message, decoded from base64url MIME as Gmail would."""
        return [
            email.message_from_bytes(base64.urlsafe_b64decode(r.json()["raw"]), policy=email.policy.default)
            for r in self.delivered()
        ]
