"""The tracker table written to Google Sheets (`spreadsheets.values.update`), optional extra `sheets`.

Credentials as for the Gmail channel: an OAuth user token file (authorized-user JSON, made with
Google's tools; vorhoelle never runs a consent flow), or a service account file whose account
the spreadsheet is shared with. The API endpoint can be pointed elsewhere, for tests and proxies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
INPUT_OPTIONS = ("RAW", "USER_ENTERED")


class SheetsError(Exception):
    """The spreadsheet could not be written; the message says why."""


@dataclass(frozen=True)
class SheetsTarget:
    spreadsheet_id: str
    range: str = "Applications!A1"
    value_input: str = "RAW"  # RAW: cells are text as given; USER_ENTERED: parsed as if typed
    token_file: Path | None = None
    service_account_file: Path | None = None
    endpoint: str | None = None


def load_credentials(target: SheetsTarget) -> Any:
    try:
        if target.token_file is not None:
            from google.oauth2.credentials import Credentials

            return Credentials.from_authorized_user_file(str(target.token_file), scopes=SCOPES)
        if target.service_account_file is not None:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(str(target.service_account_file), scopes=SCOPES)
    except (OSError, ValueError) as error:
        raise SheetsError(f"cannot use the Google credentials file: {error}") from error
    raise SheetsError("Google Sheets needs credentials: a user token file or a service account file")


def write_table(target: SheetsTarget, values: list[list[str]], *, credentials: Any = None) -> dict[str, Any]:
    """Write `values` (header first) at `target.range`; Google's answer (updatedCells, ...)."""
    try:
        from google.auth.exceptions import GoogleAuthError
        from googleapiclient.discovery import build
        from googleapiclient.errors import HttpError
    except ImportError as error:
        raise SheetsError("Google Sheets export needs the extra: pip install 'vorhoelle[sheets]'") from error
    options = {"api_endpoint": target.endpoint} if target.endpoint else None
    service = build("sheets", "v4", credentials=credentials or load_credentials(target),
                    static_discovery=True, cache_discovery=False, client_options=options)
    request = service.spreadsheets().values().update(
        spreadsheetId=target.spreadsheet_id,
        range=target.range,
        valueInputOption=target.value_input,
        body={"range": target.range, "majorDimension": "ROWS", "values": values},
    )
    try:
        answer = request.execute(num_retries=3)
    except HttpError as error:
        raise SheetsError(f"Google Sheets answered {error.status_code}: {error.reason}") from error
    except GoogleAuthError as error:
        raise SheetsError(f"Google rejected the credentials: {error}") from error
    except OSError as error:
        raise SheetsError(f"Google Sheets unreachable: {error}") from error
    log.info("wrote %s cells to spreadsheet %s (%s)", answer.get("updatedCells"), target.spreadsheet_id,
             answer.get("updatedRange"))
    return answer
