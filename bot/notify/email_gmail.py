"""E-mail through the Gmail API (`users.messages.send`, scope `gmail.send`).

Credentials: an OAuth user token file (one account; `vorhoelle` never runs the consent flow
itself — create the file with Google's tools), or a service account with domain-wide delegation
on Google Workspace, acting as `sender`. Tests pass ready `Credentials`.
"""

from __future__ import annotations

import base64
from email.message import EmailMessage
from typing import Any

from bot.notify.channel import ChannelError
from bot.settings import EmailChannel

SCOPES = ["https://www.googleapis.com/auth/gmail.send"]


def load_credentials(settings: EmailChannel) -> Any:
    gmail = settings.gmail
    if gmail.token_file is not None:
        from google.oauth2.credentials import Credentials

        return Credentials.from_authorized_user_file(str(gmail.token_file), scopes=SCOPES)
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_file(
        str(gmail.service_account_file), scopes=SCOPES, subject=settings.sender
    )


class Gmail:
    def __init__(self, settings: EmailChannel, *, credentials: Any = None):
        from googleapiclient.discovery import build

        options = {"api_endpoint": settings.gmail.api_endpoint} if settings.gmail.api_endpoint else None
        self.service = build(
            "gmail", "v1",
            credentials=credentials or load_credentials(settings),
            static_discovery=True, cache_discovery=False, client_options=options,
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
