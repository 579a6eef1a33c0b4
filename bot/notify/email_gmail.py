"""E-mail through the Gmail API (`users.messages.send`, scope `gmail.send`).

Credentials: an OAuth user token file (one account; `vorhoelle` never runs the consent flow
itself — create the file with Google's tools), or a service account with domain-wide delegation
on Google Workspace, acting as `sender`. Tests pass ready `Credentials`.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.config.settings import EmailChannel
from bot.google_credentials import CredentialsError, load_credentials
from bot.notify.channel import ChannelError

SCOPES = ["https://www.googleapis.com/auth/gmail.send"]


def credentials_file(settings: EmailChannel) -> Path | None:
    return settings.gmail.token_file or settings.gmail.service_account_file


class Gmail:
    """`scopes`: what the client asks for; sending by default, reading for the mailbox (bot/replies)."""

    def __init__(self, settings: EmailChannel, *, credentials: Any = None, scopes: list[str] = SCOPES):
        file = credentials_file(settings)
        if credentials is None and (file is None or not file.is_file()):
            # Said at start-up, as when the client was built there; the rest waits for a send.
            raise FileNotFoundError(f"no Gmail credentials file at {file}")
        self.settings = settings
        self.credentials = credentials
        self.scopes = scopes

    @cached_property
    def service(self) -> Any:
        """The Gmail API client, built on first use: google.auth and googleapiclient take ~0.3 s
        to import, which the bot should not spend before it answers."""
        from googleapiclient.discovery import build

        gmail = self.settings.gmail
        try:
            credentials = self.credentials or load_credentials(
                self.scopes, token_file=gmail.token_file, service_account_file=gmail.service_account_file,
                subject=self.settings.sender)
        except CredentialsError as exc:
            raise ChannelError(f"Gmail credentials cannot be loaded: {exc}", permanent=True) from exc
        return build(
            "gmail", "v1", credentials=credentials, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": gmail.api_endpoint} if gmail.api_endpoint else None,
        )

    def deliver(self, mail: EmailMessage) -> str:
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        raw = base64.urlsafe_b64encode(mail.as_bytes()).decode("ascii")
        try:
            sent = self.service.users().messages().send(userId="me", body={"raw": raw}).execute()
        except HttpError as exc:
            status = exc.status_code or 0
            rate_limited = status == 429 or (status == 403 and "rateLimitExceeded" in str(exc.content))
            raise ChannelError(
                f"Gmail answered {status}: {exc.reason}",
                permanent=400 <= status < 500 and not rate_limited,
            ) from exc
        except RefreshError as exc:
            raise ChannelError(f"Gmail credentials rejected and not renewable: {exc}", permanent=True) from exc
        except OSError as exc:
            raise ChannelError(f"Gmail unreachable: {exc}") from exc
        return str(sent.get("id", mail["Message-ID"]))
