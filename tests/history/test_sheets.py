"""`vorhoelle export --sheets` against a local server speaking the Sheets API's values.update and
values.clear, and keeping the cells they write, as a spreadsheet would."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.tracker.table import COLUMNS
from tests.history.conftest import FIXTURES

SPREADSHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
ACCESS_TOKEN = "ya29.local-test-access-token"
SERVICE_ACCOUNT_TOKEN = "ya29.service-account-token"


def a1(reference: str) -> tuple[str, int, int | None]:
    """"Sheet!B3" -> ("Sheet", column 2, row 3); a bare column ("Q" in "A8:Q") has row None."""
    sheet, _, cell = reference.rpartition("!")
    letters, digits = re.fullmatch(r"([A-Z]+)(\d*)", cell).groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return sheet, column, int(digits) if digits else None


@dataclass
class FakeSheets:
    url: str
    received: list[dict] = field(default_factory=list)
    refuse_with: int | None = None
    cells: dict[tuple[str, int, int], str] = field(default_factory=dict)  # (sheet, row, column)

    def rows(self, sheet: str = "Applications") -> dict[int, dict[int, str]]:
        table: dict[int, dict[int, str]] = {}
        for (name, row, column), value in sorted(self.cells.items()):
            if name == sheet:
                table.setdefault(row, {})[column] = value
        return table


class _Handler(BaseHTTPRequestHandler):
    sheets: FakeSheets

    def do_PUT(self) -> None:  # noqa: N802 - values.update
        body = self._recorded("PUT")
        if body is None:
            return
        sheet, column, row = a1(unquote(urlsplit(self.path).path).rsplit("/values/", 1)[1])
        for down, values in enumerate(body["values"]):
            for across, value in enumerate(values):
                self.sheets.cells[(sheet, row + down, column + across)] = value
        rows, width = len(body["values"]), max(map(len, body["values"]))
        self._answer(200, {
            "spreadsheetId": SPREADSHEET, "updatedRange": f"{sheet}!A1:Q{row + rows - 1}",
            "updatedRows": rows, "updatedColumns": width, "updatedCells": rows * width,
        })

    def do_POST(self) -> None:  # noqa: N802 - values.clear, and the service account's token endpoint
        path = unquote(urlsplit(self.path).path)
        if not path.endswith(":clear"):
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.sheets.received.append({"path": self.path, "grant_type": form["grant_type"][0], "assertion": form["assertion"][0]})
            self._answer(200, {"access_token": SERVICE_ACCOUNT_TOKEN, "token_type": "Bearer", "expires_in": 3600})
            return
        if self._recorded("POST") is None:
            return
        cleared = path.rsplit("/values/", 1)[1].removesuffix(":clear")
        first, last = cleared.split(":")
        sheet, left, top = a1(first)
        _, right, bottom = a1(f"{sheet}!{last}")
        for key in [k for k in self.sheets.cells if k[0] == sheet and left <= k[2] <= right
                    and top <= k[1] <= (bottom or k[1])]:
            del self.sheets.cells[key]
        self._answer(200, {"spreadsheetId": SPREADSHEET, "clearedRange": cleared})

    def _recorded(self, method: str) -> dict | None:
        """Record the call; None once it has been refused (`refuse_with`)."""
        parts = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.sheets.received.append({
            "method": method, "path": unquote(parts.path), "query": parse_qs(parts.query),
            "authorization": self.headers.get("Authorization"), "body": body,
        })
        if self.sheets.refuse_with:
            self._answer(self.sheets.refuse_with, {"error": {
                "code": self.sheets.refuse_with, "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED"}})
            return None
        return body

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sheets() -> Iterator[FakeSheets]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeSheets(url=f"http://127.0.0.1:{server.server_address[1]}/")
    _Handler.sheets = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A user token as Google's tools write it; the access token is current, so no refresh."""
    path = tmp_path / "sheets-token.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "token": ACCESS_TOKEN, "expiry": "2099-01-01T00:00:00Z",
        "refresh_token": "1//local-refresh",
        "client_id": "vorhoelle-tests.apps.example.org", "client_secret": "not-a-secret",
    }), encoding="utf-8")
    return path


def export_to(vorhoelle, sheets: FakeSheets, token_file: Path, *options: str):
    return vorhoelle("export", "--sheets", SPREADSHEET, "--sheets-token", str(token_file),
                     "--sheets-endpoint", sheets.url, *options)


def test_the_table_is_written_with_values_update(vorhoelle, sheets: FakeSheets, token_file: Path) -> None:
    assert vorhoelle("import-csv", str(FIXTURES / "bewerbungen_excel_de.csv")).code == 1  # 6 of 11 rows

    result = export_to(vorhoelle, sheets, token_file)

    assert result.code == 0, result.err
    assert "wrote 119 cells to Applications!A1:Q7" in result.err
    call, clear = sheets.received
    assert call["path"] == f"/v4/spreadsheets/{SPREADSHEET}/values/Applications!A1"
    assert call["query"]["valueInputOption"] == ["RAW"]
    assert call["authorization"] == f"Bearer {ACCESS_TOKEN}"
    body = call["body"]
    assert (body["range"], body["majorDimension"]) == ("Applications!A1", "ROWS")
    header, *rows = body["values"]
    assert header == [title for _, title in COLUMNS] and len(rows) == 6
    first = dict(zip(header, rows[0]))
    assert (first["Job title"], first["Status"], first["Match score"]) == ("Senior Python Entwickler (m/w/d)", "sent", "85")
    assert first["Application date"] == "2024-02-03" and first["Company"] == "Müller & Söhne GmbH"
    evil = dict(zip(header, rows[-1]))
    assert evil["Notes"] == '=HYPERLINK("http://evil.example")'  # RAW: stored as text, never run
    assert (clear["method"], clear["path"]) == ("POST", f"/v4/spreadsheets/{SPREADSHEET}/values/Applications!A8:Q:clear")
    assert list(sheets.rows()) == [1, 2, 3, 4, 5, 6, 7]


def test_a_shorter_export_clears_the_rows_a_longer_one_left(vorhoelle, sheets: FakeSheets, token_file: Path) -> None:
    assert vorhoelle("import-csv", str(FIXTURES / "bewerbungen_excel_de.csv")).code == 1  # 6 rows
    for row in (8, 9, 10):   # an earlier export with three more applications
        for column in range(1, len(COLUMNS) + 1):
            sheets.cells[("Applications", row, column)] = f"stale {row}/{column}"
    sheets.cells[("Applications", 9, len(COLUMNS) + 2)] = "my own note beside the table"
    sheets.cells[("Elsewhere", 9, 1)] = "another sheet"

    result = export_to(vorhoelle, sheets, token_file)

    assert result.code == 0, result.err
    assert "cleared Applications!A8:Q" in result.err
    table = sheets.rows()
    assert list(table) == [1, 2, 3, 4, 5, 6, 7, 9]
    assert table[9] == {len(COLUMNS) + 2: "my own note beside the table"}
    assert sheets.rows("Elsewhere") == {9: {1: "another sheet"}}


def test_user_entered_input_keeps_formulas_from_running(vorhoelle, sheets: FakeSheets, token_file: Path) -> None:
    assert vorhoelle("import-csv", str(FIXTURES / "bewerbungen_excel_de.csv")).code == 1

    result = export_to(vorhoelle, sheets, token_file, "--sheets-input", "USER_ENTERED", "--sheets-range", "Bewerbungen!B2")

    assert result.code == 0, result.err
    call, clear = sheets.received
    assert call["path"].endswith("/values/Bewerbungen!B2") and call["query"]["valueInputOption"] == ["USER_ENTERED"]
    assert clear["path"].endswith("/values/Bewerbungen!B9:R:clear")   # under the table, its columns only
    notes = [row[-1] for row in call["body"]["values"]]
    assert "'=HYPERLINK(\"http://evil.example\")" in notes


def test_a_refusal_is_reported_not_raised(vorhoelle, sheets: FakeSheets, token_file: Path) -> None:
    sheets.refuse_with = 403
    result = export_to(vorhoelle, sheets, token_file)
    assert result.code == 1
    assert "Google Sheets answered 403: The caller does not have permission" in result.err


def test_credentials_are_required(vorhoelle, sheets: FakeSheets, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VORHOELLE_SHEETS_TOKEN_FILE", raising=False)
    monkeypatch.delenv("VORHOELLE_SHEETS_SERVICE_ACCOUNT_FILE", raising=False)
    result = vorhoelle("export", "--sheets", SPREADSHEET, "--sheets-endpoint", sheets.url)
    assert result.code == 1 and "needs credentials" in result.err
    broken = tmp_path / "token.json"
    broken.write_text("{not json", encoding="utf-8")
    result = export_to(vorhoelle, sheets, broken)
    assert result.code == 1 and "cannot use the Google credentials file" in result.err
    assert sheets.received == []


def test_a_service_account_signs_in_at_its_token_uri(vorhoelle, sheets: FakeSheets, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps({
        "type": "service_account", "project_id": "vorhoelle-tests", "private_key_id": "key-1",
        "private_key": pem.decode(), "client_email": "exporter@vorhoelle-tests.iam.example.org",
        "client_id": "1234567890", "token_uri": f"{sheets.url}token",
    }), encoding="utf-8")

    result = vorhoelle("export", "--sheets", SPREADSHEET, "--sheets-service-account", str(account),
                       "--sheets-endpoint", sheets.url)

    assert result.code == 0, result.err
    sign_in, update, _ = sheets.received
    assert sign_in["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = json.loads(base64.urlsafe_b64decode(sign_in["assertion"].split(".")[1] + "=="))
    assert claims["iss"] == "exporter@vorhoelle-tests.iam.example.org"
    assert claims["scope"] == "https://www.googleapis.com/auth/spreadsheets"
    assert update["authorization"] == f"Bearer {SERVICE_ACCOUNT_TOKEN}"
    assert update["body"]["values"] == [[title for _, title in COLUMNS]]  # an empty project: the header
