"""What a mailbox gives a pass, whichever transport reads it (imap.py, gmail.py)."""

from __future__ import annotations

import importlib.util
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
    needed = {"imap": ("imapclient", "mailparser_reply"), "gmail": ("googleapiclient", "mailparser_reply")}
    missing = [name for name in needed.get(replies.transport, ()) if importlib.util.find_spec(name) is None]
    if missing:
        raise MailboxError(f"replies.transport {replies.transport} needs {', '.join(missing)}: "
                           "pip install 'vorhoelle[replies,email]'")
    if replies.transport == "imap":
        from bot.replies.imap import ImapMailbox

        return ImapMailbox(replies.imap)
    if replies.transport == "gmail":
        from bot.replies.gmail import GmailMailbox

        return GmailMailbox(settings.notify.channels.email)
    raise MailboxError("replies.transport is off: set it to imap or gmail")
