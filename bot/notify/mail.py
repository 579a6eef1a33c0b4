"""E-mails as MIME messages: HTML with a plain-text alternative, optional attachments.

Both e-mail transports (Gmail API, SMTP) send what this module builds, so a notification or an
application looks the same whichever way it leaves. Every mail carries a `Date` (RFC 5322
requires one). A subject that is not ASCII is folded here, by the older `email.header` encoder:
Python 3.11's own folding drops the space between an ASCII word and an encoded one
("94% Ingénieur" arrives as "94%Ingénieur").
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timezone
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol, Sequence

from bot.notify.clock import Clock, system_clock
from bot.notify.message import Message


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes

    @property
    def mime_type(self) -> tuple[str, str]:
        guessed = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        main, sub = guessed.split("/", 1)
        return main, sub


class MailTransport(Protocol):
    def deliver(self, mail: EmailMessage) -> str:
        """Send `mail`; return the id the service gave it (or its Message-ID)."""
        ...


def compose(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    date: datetime | None = None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    set_subject(mail, subject)
    mail["Date"] = format_datetime(date or datetime.now(timezone.utc))
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    for attachment in attachments:
        main, sub = attachment.mime_type
        mail.add_attachment(attachment.content, maintype=main, subtype=sub, filename=attachment.filename)
    return mail


def set_subject(mail: EmailMessage, subject: str) -> None:
    """The Subject header; a non-ASCII one encoded and folded with every space kept."""
    if subject.isascii():
        mail["Subject"] = subject
    else:
        mail.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def round_invites(message: Message) -> list[Attachment]:
    """An `.ics` for every interview round the message announces."""
    from bot.lifecycle.ics import round_invite

    return [
        Attachment(f"interview-{item.iid}-{index}.ics", round_invite(
            source=item.source, starts=item.round_start, title=item.title, with_whom=item.with_whom,
            note=item.reason, url=item.web_url,
        ))
        for index, item in enumerate(message.items, 1) if item.round_start is not None
    ]


def notification_mail(message: Message, *, sender: str, to: Sequence[str], date: datetime | None = None) -> EmailMessage:
    return compose(
        sender=sender,
        to=to,
        subject=message.subject(),
        text=message.render("message.txt.j2"),
        html=message.render("message.html.j2"),
        attachments=round_invites(message),
        date=date,
    )


class Email:
    """The e-mail channel: a notification mail handed to whichever transport is configured."""

    name = "email"

    def __init__(self, transport: MailTransport, *, sender: str, to: Sequence[str], clock: Clock = system_clock):
        self.transport = transport
        self.sender = sender
        self.to = list(to)
        self.clock = clock

    def send(self, message: Message) -> str:
        return self.transport.deliver(notification_mail(message, sender=self.sender, to=self.to, date=self.clock()))
