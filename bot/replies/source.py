"""What a mailbox gives a pass, whichever transport reads it (imap.py, gmail.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class MailboxError(Exception):
    """The mailbox could not be read: one line that says where and why."""


@dataclass(frozen=True)
class RawMail:
    key: str  # the transport's own name for it (IMAP UID, Gmail id), for a mail with no Message-ID
    raw: bytes  # RFC 5322


class Mailbox(Protocol):
    def read_since(self, since: datetime) -> list[RawMail]: ...

    def find(self, message_id: str) -> RawMail | None: ...


def open_mailbox(settings: Any) -> Mailbox:
    """The configured transport (`replies.transport`), built from the settings."""
    replies = settings.replies
    if replies.transport == "imap":
        from bot.replies.imap import ImapMailbox

        return ImapMailbox(replies.imap)
    if replies.transport == "gmail":
        from bot.replies.gmail import GmailMailbox

        return GmailMailbox(settings.notify.channels.email)
    raise MailboxError("replies.transport is off: set it to imap or gmail")
