"""Google credentials for the Gmail channel and the Sheets export, loaded one way for both.

An OAuth user token file (authorized-user JSON, made with Google's tools; vorhoelle never runs a
consent flow itself) or a service account file: for Gmail with domain-wide delegation acting as
`subject`, for Sheets an account the spreadsheet is shared with. google.auth is imported on first
use: it is an optional extra and slow to import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class CredentialsError(Exception):
    """The credentials could not be loaded; the message says why."""


def load_credentials(scopes: list[str], *, token_file: Path | None, service_account_file: Path | None,
                     subject: str | None = None) -> Any:
    """`google.auth` credentials from the token file if given, else from the service account file."""
    try:
        if token_file is not None:
            from google.oauth2.credentials import Credentials

            return Credentials.from_authorized_user_file(str(token_file), scopes=scopes)
        if service_account_file is not None:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(
                str(service_account_file), scopes=scopes, subject=subject)
    except (OSError, ValueError) as error:  # unreadable, or not a token / service account file
        raise CredentialsError(f"cannot use the Google credentials file: {error}") from error
    raise CredentialsError("no Google credentials: give a user token file or a service account file")
