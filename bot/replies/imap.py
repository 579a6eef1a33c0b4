"""The mailbox over IMAP with TLS (any provider), through IMAPClient, by UID and read-only.

A pass asks for the mail of the last `look_back_days` (`UID SEARCH SINCE`); while the bot runs,
it remembers the highest UID it has read (with the mailbox's UIDVALIDITY) and asks only for
newer ones. Nothing is written to disk: after a restart the window is read again, and the mail
already recorded is known from GitLab. The mailbox is opened read-only (`EXAMINE`), so reading
marks nothing as seen.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.config.sections import ImapSettings
from bot.replies.source import MailboxError, RawMail

log = logging.getLogger(__name__)
BATCH = 50  # messages fetched per command


class ImapMailbox:
    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._seen: tuple[int, int] | None = None  # (UIDVALIDITY, highest UID read)

    @contextmanager
    def _session(self) -> Iterator[tuple[Any, int]]:
        from imapclient import IMAPClient
        from imapclient.exceptions import IMAPClientError

        settings = self.settings
        context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
        where = f"{settings.host}:{settings.port}"
        try:
            client = IMAPClient(settings.host, port=settings.port, ssl=True, ssl_context=context,
                                timeout=settings.timeout_seconds)
        except ssl.SSLError as exc:
            raise MailboxError(f"IMAP {where}: TLS failed: {exc.reason or exc}") from exc
        except OSError as exc:
            raise MailboxError(f"IMAP {where} unreachable: {exc.strerror or exc}") from exc
        try:
            try:
                client.login(settings.username, settings.password.get_secret_value() if settings.password else "")
            except IMAPClientError as exc:
                raise MailboxError(f"IMAP {where}: login as {settings.username} refused") from exc
            try:
                folder = client.select_folder(settings.mailbox, readonly=True)
            except IMAPClientError as exc:
                raise MailboxError(f"IMAP {where}: no mailbox {settings.mailbox!r}") from exc
            yield client, int(folder.get(b"UIDVALIDITY", 0))
        except (IMAPClientError, OSError) as exc:
            raise MailboxError(f"IMAP {where}: {exc}") from exc
        finally:
            try:
                client.logout()
            except (IMAPClientError, OSError):
                pass

    def _fetch(self, client: Any, uids: list[int]) -> list[RawMail]:
        found: list[RawMail] = []
        for start in range(0, len(uids), BATCH):
            batch = uids[start:start + BATCH]
            for uid, data in sorted(client.fetch(batch, ["BODY.PEEK[]"]).items()):
                body = data.get(b"BODY[]")
                if body:
                    found.append(RawMail(key=f"imap-uid-{uid}", raw=bytes(body)))
        return found

    def read_since(self, since: datetime) -> list[RawMail]:
        """Mail that arrived since `since` (a day's precision, as IMAP searches), newer than the
        last UID this process read."""
        with self._session() as (client, validity):
            uids = sorted(int(u) for u in client.search(["SINCE", since.date()]))
            if self._seen is not None and self._seen[0] == validity:
                uids = [u for u in uids if u > self._seen[1]]
            mails = self._fetch(client, uids)
            if uids:
                self._seen = (validity, max(uids))
            log.info("IMAP %s: %d new message(s) since %s", self.settings.mailbox, len(mails), since.date())
            return mails

    def find(self, message_id: str) -> RawMail | None:
        """The mail whose Message-ID is `message_id`, wherever it is in the mailbox."""
        with self._session() as (client, _):
            uids = sorted(int(u) for u in client.search(["HEADER", "Message-ID", message_id]))
            mails = self._fetch(client, uids[-1:])
            return mails[0] if mails else None
