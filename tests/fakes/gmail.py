"""A local Gmail API: `POST /gmail/v1/users/{userId}/messages/send` with a base64url MIME `raw`,
and the reading side the mailbox uses: `GET …/profile`, `…/messages?q=` (`after:<epoch>`,
`rfc822msgid:`, `-in:sent`; pages of `page_size`), `…/messages/{id}?format=raw` and
`…/history?startHistoryId=` (404 below the oldest history kept), in Gmail's JSON shapes."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

from tests.fakes.http import Answer, FakeService, Received

TOKEN = "ya29.test-token"
SEND_PATH = "/gmail/v1/users/me/messages/send"


def google_error(code: int, reason: str, message: str) -> Answer:
    status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
    body = {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}], "status": status.get(code, "INTERNAL")}}  # noqa: E501
    return Answer(code, body)


USER_PATH = "/gmail/v1/users/me"


@dataclass(frozen=True)
class Stored:
    id: str
    raw: bytes
    internal_date: int  # milliseconds since the epoch, as Gmail's internalDate
    history_id: int
    labels: tuple[str, ...]


class FakeGmail(FakeService):
    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.stored: list[Stored] = []
        self.oldest_history = 1

    @property
    def api_endpoint(self) -> str:
        return f"{self.url}/"

    @property
    def history_id(self) -> int:
        return 1000 + len(self.stored)

    def deliver(self, raw: bytes, *, at_epoch: int, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> str:
        """A mail arrives in the mailbox (or, with labels SENT, is one the account sent)."""
        ident = f"19{len(self.stored) + 1:014x}"
        self.stored.append(Stored(ident, raw, at_epoch * 1000, self.history_id + 1, labels))
        return ident

    def _search(self, query: str) -> list[Stored]:
        found = list(self.stored)
        for word in query.split():
            if word.startswith("after:"):
                found = [m for m in found if m.internal_date > int(word[6:]) * 1000]
            elif word.startswith("rfc822msgid:"):
                wanted = f"<{word[12:]}>"
                found = [m for m in found if re.search(rb"(?im)^Message-ID:\s*" + re.escape(wanted.encode()), m.raw)]
            elif word.startswith("-in:"):
                found = [m for m in found if word[4:].upper() not in m.labels]
        return sorted(found, key=lambda m: -m.internal_date)   # newest first, as Gmail lists

    def _read(self, received: Received) -> Answer:
        query = {k: v[0] for k, v in received.query.items()}
        path = received.path.removeprefix(USER_PATH)
        if path == "/profile":
            return Answer(200, {"emailAddress": "jobs@example.org", "messagesTotal": len(self.stored),
                                "historyId": str(self.history_id)})
        if path == "/messages":
            found = self._search(query.get("q", ""))
            start = int(query.get("pageToken", "0"))
            page = found[start:start + self.page_size]
            body = {"messages": [{"id": m.id, "threadId": m.id} for m in page], "resultSizeEstimate": len(found)}
            if start + self.page_size < len(found):
                body["nextPageToken"] = str(start + self.page_size)
            return Answer(200, body if page else {"resultSizeEstimate": 0})
        if path.startswith("/messages/"):
            stored = next((m for m in self.stored if m.id == path.rsplit("/", 1)[1]), None)
            if stored is None:
                return google_error(404, "notFound", "Requested entity was not found.")
            return Answer(200, {"id": stored.id, "threadId": stored.id, "labelIds": list(stored.labels),
                                "historyId": str(stored.history_id), "internalDate": str(stored.internal_date),
                                "raw": base64.urlsafe_b64encode(stored.raw).decode()})
        if path == "/history":
            start = int(query["startHistoryId"])
            if start < self.oldest_history:
                return google_error(404, "notFound", "Requested entity was not found.")
            added = [{"id": str(m.history_id), "messagesAdded": [{"message": {
                "id": m.id, "threadId": m.id, "labelIds": list(m.labels)}}]} for m in self.stored if m.history_id > start]
            return Answer(200, {"history": added, "historyId": str(self.history_id)} if added
                          else {"historyId": str(self.history_id)})
        return google_error(404, "notFound", "Not Found")

    def answer(self, received: Received) -> Answer:
        reading = received.method == "GET" and received.path.startswith(USER_PATH)
        if not reading and (received.path != SEND_PATH or received.method != "POST"):
            return google_error(404, "notFound", "Not Found")
        if received.headers.get("authorization") != f"Bearer {TOKEN}":
            return google_error(401, "authError", "Invalid Credentials")
        if reading:
            return self._read(received)
        n = len(self.requests)
        return Answer(200, {"id": f"18c0ffee{n:04d}", "threadId": f"18c0ffee{n:04d}", "labelIds": ["SENT"]})

    def mails(self) -> list[EmailMessage]:
        """Every accepted message, decoded from base64url MIME as Gmail would."""
        return [
            email.message_from_bytes(base64.urlsafe_b64decode(r.json()["raw"]), policy=email.policy.default)
            for r in self.delivered() if r.path == SEND_PATH
        ]
