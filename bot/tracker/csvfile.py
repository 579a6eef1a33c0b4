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
from dataclasses import dataclass

DELIMITERS = (";", ",", "\t")


class CsvFileError(ValueError):
    """The file as a whole cannot be read (no header, not text)."""


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a spreadsheet shows: the header is row 1
    cells: list[str]


@dataclass(frozen=True)
class Sheet:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[SheetRow]


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was in."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    # Five bytes are undefined in Windows-1252; Latin-1 reads them, and everything else the same.
    return data.decode("latin-1"), "latin-1"


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
    text, encoding = decode(data)
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
    return Sheet(encoding=encoding, delimiter=delimiter, headers=headers, rows=rows)
