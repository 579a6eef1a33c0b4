"""One mail from the mailbox, read into what matching and recording need, and nothing more.

The mail is someone else's text: nothing here trusts it. Headers are decoded (RFC 2047), the
new text is the plain part (or the HTML part made plain), with the quoted history stripped by a
maintained reply parser (`mail-parser-reply`, German and English), attachments are kept by name
only, and a `text/calendar` REQUEST gives the invitation's start. Automatic mail is recognised
by its headers (RFC 3834 `Auto-Submitted`, `X-Autoreply`, `X-Autorespond`, `Precedence:
auto_reply`) and
delivery status notifications (RFC 3464 `multipart/report; report-type=delivery-status`), whose
returned headers name the message that bounced.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

MAX_ID_CHARS = 250
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TAGS = re.compile(r"<(script|style|blockquote)\b.*?</\1>|<[^>]+>", re.S | re.I)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.I)


@dataclass(frozen=True)
class Mail:
    message_id: str
    sender_name: str
    sender_address: str
    at: datetime
    subject: str
    refers_to: tuple[str, ...]  # In-Reply-To and References, message ids with their brackets
    text: str  # the new text, quoted history stripped
    attachments: tuple[str, ...]
    invitation: datetime | None  # a calendar REQUEST's start
    automatic: str | None  # None, "automatic" (auto-reply) or "bounce"
    bounced: tuple[str, ...] = ()  # a bounce: the message ids it returns

    @property
    def sender(self) -> str:
        return f"{self.sender_name} <{self.sender_address}>" if self.sender_name else self.sender_address

    @property
    def domain(self) -> str:
        return self.sender_address.rpartition("@")[2].lower()


def message_ids(value: str | None) -> tuple[str, ...]:
    """The message ids in a header; one longer than any real one is kept as its digest, so a
    hostile header cannot bloat the marker that records it."""
    return tuple(i if len(i) <= MAX_ID_CHARS else f"<{hashlib.sha256(i.encode()).hexdigest()}@long-id>"
                 for i in _MESSAGE_ID.findall(value or ""))


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except (ValueError, TypeError, IndexError):  # a header too broken to decode is no header
        return ""


def html_to_text(markup: str) -> str:
    """Readable lines from an HTML-only mail: tags dropped, line breaks kept, entities decoded."""
    text = _TAGS.sub("", _BREAKS.sub("\n", markup))
    lines = (" ".join(html.unescape(line).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return ""
    return html_to_text(content) if part.get_content_type() == "text/html" else str(content)


def new_text(text: str) -> str:
    """The reply's own words: quotes, "On … wrote:" / "Am … schrieb …:" history and signatures gone."""
    from mailparser_reply import EmailReplyParser

    stripped = EmailReplyParser(languages=["en", "de"]).parse_reply(text=text.replace("\r\n", "\n"))
    return (stripped or "").strip()


def _invitation(message: EmailMessage) -> datetime | None:
    from icalendar import Calendar

    for part in message.walk():
        if part.get_content_type() != "text/calendar":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            calendar = Calendar.from_ical(payload)
        except ValueError:
            continue
        if str(calendar.get("method", "")).upper() != "REQUEST":
            continue
        for event in calendar.walk("VEVENT"):
            start = event.decoded("dtstart", None)
            if isinstance(start, datetime):
                return start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    return None


def _attachments(message: EmailMessage) -> tuple[str, ...]:
    names = []
    for part in message.walk():
        name = part.get_filename()
        if name and part.get_content_type() != "text/calendar":
            names.append(str(name))
    return tuple(names)


def _automatic(message: EmailMessage) -> str | None:
    if message.get_content_type() == "multipart/report" and message.get_param("report-type") == "delivery-status":
        return "bounce"
    sender = _header(message, "From").lower()
    if sender.startswith(("mailer-daemon", "postmaster")) or "mailer-daemon@" in sender:
        return "bounce"
    submitted = _header(message, "Auto-Submitted").strip().lower()
    if submitted and submitted != "no":
        return "automatic"
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond")):
        return "automatic"
    # Not `bulk`: an applicant tracking system sends real answers as bulk mail.
    if _header(message, "Precedence").strip().lower() == "auto_reply":
        return "automatic"
    return None


def _bounced(message: EmailMessage) -> tuple[str, ...]:
    """The message ids a delivery status notification returns (its message/rfc822 or headers part)."""
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            for returned in inner if isinstance(inner, list) else [inner]:
                if isinstance(returned, Message):
                    found.extend(message_ids(_header(returned, "Message-ID")))
        elif kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            headers = email.message_from_bytes(payload if isinstance(payload, bytes) else b"", policy=email.policy.default)
            found.extend(message_ids(_header(headers, "Message-ID")))
    return tuple(dict.fromkeys(found))


def read_mail(raw: bytes, *, fallback_id: str) -> Mail:
    """`raw` (RFC 5322 bytes) as a `Mail`; `fallback_id` names a mail that has no Message-ID."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = (getaddresses([_header(message, "From")]) or [("", "")])[0]
    try:
        at = parsedate_to_datetime(_header(message, "Date"))
        at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, IndexError):
        at = datetime.now(timezone.utc)
    automatic = _automatic(message)
    ids = message_ids(_header(message, "Message-ID"))
    return Mail(
        message_id=ids[0] if ids else f"<{fallback_id}>",
        sender_name=name.strip(),
        sender_address=address.strip().lower(),
        at=at,
        subject=" ".join(_header(message, "Subject").split()),
        refers_to=message_ids(_header(message, "In-Reply-To")) + message_ids(_header(message, "References")),
        text="" if automatic == "bounce" else new_text(_body(message)),
        attachments=_attachments(message),
        invitation=_invitation(message),
        automatic=automatic,
        bounced=_bounced(message) if automatic == "bounce" else (),
    )
