"""The tracker table written to Google Sheets (`spreadsheets.values.update`), optional extra `sheets`.

Each export replaces the table: the rows an earlier, longer export left below it are cleared
(`values.clear`, the table's columns only, so notes kept beside the table stay).

Credentials as for the Gmail channel (bot/google_credentials.py): an OAuth user token file, or
a service account file whose account the spreadsheet is shared with. The API endpoint can be pointed elsewhere, for tests and proxies.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.google_credentials import CredentialsError, load_credentials

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


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


def _credentials(target: SheetsTarget) -> Any:
    if target.token_file is None and target.service_account_file is None:
        raise SheetsError("Google Sheets needs credentials: a user token file or a service account file")
    try:
        return load_credentials(SCOPES, token_file=target.token_file,
                                service_account_file=target.service_account_file)
    except CredentialsError as error:
        raise SheetsError(str(error)) from error


def leftover_range(target_range: str, rows: int, columns: int) -> str | None:
    """The cells under a table of `rows` x `columns` written at `target_range` ("Sheet!B3"), down to
    the sheet's last row; None for a range that does not start at a cell."""
    sheet, bang, cell = target_range.rpartition("!")
    start = re.fullmatch(r"([A-Za-z]{1,3})(\d+)", cell.split(":", 1)[0])
    if start is None or columns < 1:
        return None
    first_column, first_row = start[1].upper(), int(start[2])
    return f"{sheet}{bang}{first_column}{first_row + rows}:{column_letters(column_number(first_column) + columns - 1)}"


def column_number(letters: str) -> int:
    """"A" -> 1, "Z" -> 26, "AA" -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def write_table(target: SheetsTarget, values: list[list[str]], *, credentials: Any = None) -> dict[str, Any]:
    """Write `values` (header first) at `target.range` and clear what an earlier export left under
    it; Google's answer to the update (updatedCells, ...) with `clearedRange` added."""
    try:
        from google.auth.exceptions import GoogleAuthError
        from googleapiclient.discovery import build
        from googleapiclient.errors import HttpError
    except ImportError as error:
        raise SheetsError("Google Sheets export needs the extra: pip install 'vorhoelle[sheets]'") from error
    options = {"api_endpoint": target.endpoint} if target.endpoint else None
    service = build("sheets", "v4", credentials=credentials or _credentials(target),
                    static_discovery=True, cache_discovery=False, client_options=options)
    cells = service.spreadsheets().values()
    update = cells.update(
        spreadsheetId=target.spreadsheet_id,
        range=target.range,
        valueInputOption=target.value_input,
        body={"range": target.range, "majorDimension": "ROWS", "values": values},
    )
    below = leftover_range(target.range, len(values), max(map(len, values), default=0))
    try:
        answer = update.execute(num_retries=3)
        if below is not None:
            cleared = cells.clear(spreadsheetId=target.spreadsheet_id, range=below, body={}).execute(num_retries=3)
            answer["clearedRange"] = cleared.get("clearedRange", below)
    except HttpError as error:
        raise SheetsError(f"Google Sheets answered {error.status_code}: {error.reason}") from error
    except GoogleAuthError as error:
        raise SheetsError(f"Google rejected the credentials: {error}") from error
    except OSError as error:
        raise SheetsError(f"Google Sheets unreachable: {error}") from error
    log.info("wrote %s cells to spreadsheet %s (%s), cleared %s", answer.get("updatedCells"),
             target.spreadsheet_id, answer.get("updatedRange"), answer.get("clearedRange", "nothing"))
    return answer
