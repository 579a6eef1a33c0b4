"""Reading the CSV files spreadsheets really write.

Excel and LibreOffice write comma- or semicolon-separated files (semicolon wherever the decimal
separator is a comma, as in Germany), in UTF-8 with or without a byte-order mark, in
Windows-1252, or as tab-separated UTF-16 ("Unicode text"); cells may hold quoted newlines, and
rows often end in empty columns nobody meant to fill.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

DELIMITERS = (";", ",", "\t")


class CsvFileError(ValueError):
    """The file as a whole cannot be read (no header, not text)."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a spreadsheet shows: the header is row 1
    cells: list[str]


CUT_OFF = "the file ends in the middle of a character (cut off while copying?): this row is incomplete; export the sheet again"
UNCLOSED = "a quote opened in this row is never closed, so the rest of the file became one cell; close it and export again"


@dataclass(frozen=True)
class Sheet:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[SheetRow]
    damaged: list[tuple[int, str]] = field(default_factory=list)  # (row, why): left out of `rows`


def _cut(data: bytes, encoding: str) -> str | None:
    """`data` decoded up to a character the file's end cut in two, or None when it is not that."""
    unit = 2 if encoding == "utf-16" else 1
    whole = data[: len(data) - len(data) % unit]
    try:
        text = whole.decode(encoding)
    except UnicodeDecodeError as error:
        if error.reason != "unexpected end of data":
            return None
        return whole[: error.start].decode(encoding, errors="replace")
    return text if len(whole) < len(data) else None


def decode(data: bytes) -> tuple[str, str, bool]:
    """The text, the name of the encoding it was in, and whether the file ends in the middle of
    a character (then the text stops just before it, instead of the whole file being misread)."""
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        cut = _cut(body, "utf-8")
        return (body.decode("utf-8"), "utf-8-sig", False) if cut is None else (cut, "utf-8-sig", True)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        cut = _cut(data, "utf-16")
        return (data.decode("utf-16"), "utf-16", False) if cut is None else (cut, "utf-16", True)
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        cut = _cut(data, "utf-8")
        if cut is not None and not cut.isascii():
            return cut, "utf-8", True
    try:
        return data.decode("cp1252"), "cp1252", False
    except UnicodeDecodeError:
        # Five bytes are undefined in Windows-1252; Latin-1 reads them, and everything else the same.
        return data.decode("latin-1"), "latin-1", False


def ends_inside_quotes(text: str, delimiter: str) -> bool:
    """Whether a quoted cell is still open at the end of `text` (csv reads such a file without
    complaint, the rest of the file becoming that one cell)."""
    quoted, at_start, i = False, True, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                i += 1  # an escaped quote inside the cell
            elif ch == '"':
                quoted = False
        elif ch == '"' and at_start:
            quoted = True
        at_start = not quoted and ch in (delimiter, "\n", "\r")
        i += 1
    return quoted


def sniff_delimiter(text: str) -> str:
    """The separator used most in the first line (the header), outside quotes."""
    counts, quoted = dict.fromkeys(DELIMITERS, 0), False
    for ch in text.lstrip("\r\n"):
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif ch in counts and not quoted:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_sheet(data: bytes) -> Sheet:
    """Parse a whole CSV file; blank rows are dropped, trailing unnamed columns trimmed."""
    text, encoding, cut = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:  # e.g. an unclosed quote that swallows the rest of a big file
        raise CsvFileError(f"line {reader.line_num}: {error} (an unclosed quote?)") from None
    header_index = next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), None)
    if header_index is None:
        raise CsvFileError("the file has no header row (it is empty)")
    headers = [h.strip() for h in records[header_index]]
    while headers and not headers[-1]:
        headers.pop()
    rows = [
        SheetRow(number=i + 1, cells=[cell.replace("\r\n", "\n").replace("\r", "\n") for cell in cells])
        for i, cells in enumerate(records)
        if i > header_index and any(c.strip() for c in cells)
    ]
    damaged = []
    unclosed = ends_inside_quotes(text, delimiter)
    if rows and (cut or unclosed):
        damaged.append((rows.pop().number, UNCLOSED if unclosed else CUT_OFF))
    return Sheet(encoding=encoding, delimiter=delimiter, headers=headers, rows=rows, damaged=damaged)
