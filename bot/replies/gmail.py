"""The mailbox through the Gmail API (scope `gmail.readonly`), with the credentials that send.

The first pass lists the mail of the look-back window (`users.messages.list`, `after:<epoch>`,
sent mail and drafts left out) and notes the mailbox's `historyId` from before the listing;
while the bot runs, the next passes ask `users.history.list` for the messages added since, so
each reads only what is new. A history too old for Gmail to keep (404) starts over with the
window. Nothing is written to disk; GitLab knows what was recorded.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any

from bot.config.settings import EmailChannel
from bot.replies.source import MailboxError, RawMail

log = logging.getLogger(__name__)
READ_SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]
SKIPPED_LABELS = frozenset({"SENT", "DRAFT"})


class _HistoryGone(MailboxError):
    """Gmail keeps history for about a week; an older `startHistoryId` answers 404."""


class GmailMailbox:
    def __init__(self, settings: EmailChannel, *, credentials: Any = None) -> None:
        from bot.notify.email_gmail import Gmail, credentials_file

        if credentials is None and credentials_file(settings) is None:
            raise MailboxError("replies.transport gmail reads with notify.channels.email.gmail's token_file "
                               "or service_account_file; neither is set")
        try:
            self.client = Gmail(settings, credentials=credentials, scopes=READ_SCOPES)
        except FileNotFoundError as exc:
            raise MailboxError(str(exc)) from exc
        self.history_id: str | None = None

    def _call(self, request: Any) -> Any:
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        from bot.notify.channel import ChannelError

        try:
            return request(self.client.service.users()).execute()
        except HttpError as exc:
            if exc.status_code == 404:
                raise _HistoryGone(f"Gmail answered 404: {exc.reason}") from exc
            raise MailboxError(f"Gmail answered {exc.status_code}: {exc.reason}") from exc
        except RefreshError as exc:
            raise MailboxError(f"Gmail credentials rejected and not renewable: {exc}") from exc
        except ChannelError as exc:
            raise MailboxError(str(exc)) from exc
        except OSError as exc:
            raise MailboxError(f"Gmail unreachable: {exc}") from exc

    def _ids(self, query: str) -> list[str]:
        ids: list[str] = []
        token = None
        while True:
            page = self._call(lambda users, token=token: users.messages().list(userId="me", q=query, pageToken=token))
            ids.extend(m["id"] for m in page.get("messages", []))
            token = page.get("nextPageToken")
            if not token:
                return ids

    def _added(self) -> list[str] | None:
        """Messages added since `history_id`, or None when Gmail no longer keeps that history."""
        ids: list[str] = []
        token = None
        try:
            while True:
                page = self._call(lambda users, token=token: users.history().list(
                    userId="me", startHistoryId=self.history_id, historyTypes=["messageAdded"], pageToken=token))
                for entry in page.get("history", []):
                    for added in entry.get("messagesAdded", []):
                        message = added.get("message", {})
                        if not SKIPPED_LABELS & set(message.get("labelIds", [])):
                            ids.append(message["id"])
                self.history_id = str(page.get("historyId", self.history_id))
                token = page.get("nextPageToken")
                if not token:
                    return list(dict.fromkeys(ids))
        except _HistoryGone:
            log.info("Gmail: history %s is gone; reading the window again", self.history_id)
            return None

    def _raw(self, ids: list[str]) -> list[RawMail]:
        found = []
        for ident in ids:
            message = self._call(lambda users, ident=ident: users.messages().get(userId="me", id=ident, format="raw"))
            found.append(RawMail(key=f"gmail-{ident}", raw=base64.urlsafe_b64decode(message["raw"])))
        return found

    def read_since(self, since: datetime) -> list[RawMail]:
        ids = self._added() if self.history_id is not None else None
        if ids is None:
            self.history_id = str(self._call(lambda users: users.getProfile(userId="me"))["historyId"])
            ids = self._ids(f"after:{int(since.timestamp())} -in:sent -in:drafts")
        mails = self._raw(ids)
        log.info("Gmail: %d new message(s)", len(mails))
        return mails

    def find(self, message_id: str) -> RawMail | None:
        ids = self._ids(f"rfc822msgid:{message_id.strip('<>')}")
        return self._raw(ids[:1])[0] if ids else None
