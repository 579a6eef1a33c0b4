"""Reading spreadsheet exports: encodings, separators, quirks, and each row's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import load_settings
from bot.tracker.csvfile import CsvFileError, read_sheet
from bot.tracker.mapping import MappingError, load_mapping
from bot.tracker.rows import RowError, plan_sheet
from bot.tracker.scores import ScoreRange

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv"
STATES = list(load_settings().workflow.states)


def plan(name: str, mapping_file: Path | None = None):
    sheet = read_sheet((FIXTURES / name).read_bytes())
    return plan_sheet(sheet, load_mapping(mapping_file, states=STATES), "pending")


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "rows"),
    [
        ("bewerbungen_excel_de.csv", "cp1252", ";", 11),  # the blank row is dropped
        ("applications_utf8_bom.csv", "utf-8-sig", ",", 3),
        ("unicode_text_utf16_tabs.csv", "utf-16", "\t", 2),
    ],
)
def test_encoding_and_separator_are_recognised(name: str, encoding: str, delimiter: str, rows: int) -> None:
    sheet = read_sheet((FIXTURES / name).read_bytes())
    assert (sheet.encoding, sheet.delimiter, len(sheet.rows)) == (encoding, delimiter, rows)


def test_excel_export_from_a_german_spreadsheet() -> None:
    planned, failed, columns = plan("bewerbungen_excel_de.csv")
    by_row = {row.number: row for row in planned}
    first = by_row[2]
    assert first.job.title == "Senior Python Entwickler (m/w/d)"
    assert first.job.company == "Müller & Söhne GmbH"  # Windows-1252 umlauts
    assert first.job.rate == "95 €/h"
    assert first.state == "sent" and first.status_text == "versendet"
    assert first.score == ScoreRange(85, 85)  # "MATCH 85%!"
    assert first.notes == "Ansprechpartner: Frau Weiß\nRückruf am Montag"  # quoted newline, CRLF gone
    assert first.key == "url:https://www.freelancermap.de/projekt/senior-python-1"
    assert by_row[3].score == ScoreRange(75, 80) and by_row[3].state == "turned-down"  # abgelehnt, applied
    assert (by_row[3].applied.isoformat(), by_row[3].decided.isoformat()) == ("2024-02-05", "2024-02-12")
    assert by_row[4].score == ScoreRange(95, 100) and by_row[4].state == "sent"  # offen, but applied
    assert by_row[5].score == ScoreRange(87, 87) and by_row[5].applied.isoformat() == "2024-02-12"  # 0,87 and 12.2.24
    assert by_row[6].score == ScoreRange(90, 90) and by_row[6].state == "sent"  # "Versendet"; score from the notes
    assert columns.ignored_headers == []  # the empty trailing columns are no columns


def test_bad_rows_are_reported_with_their_spreadsheet_row_number() -> None:
    _, failed, _ = plan("bewerbungen_excel_de.csv")
    reasons = {f.number: f.reason for f in failed}
    assert sorted(reasons) == [7, 8, 9, 10, 11]
    assert reasons[7].startswith("unknown status 'vielleicht' — add it under `status:` in a --mapping file (known: ")
    assert reasons[8] == "date: '31.02.2024' is not a real date (day is out of range for month)"
    assert reasons[9] == "the project/title cell is empty"
    assert reasons[10].startswith("match score: no score in 'über 9000'")
    assert reasons[11] == "link 'javascript:alert(1)' is not an http(s) URL"


def test_english_export_with_bom_and_quoted_commas() -> None:
    planned, failed, columns = plan("applications_utf8_bom.csv")
    assert failed == [] and columns.ignored_headers == []
    first, second, third = planned
    assert first.job.title == "Python Developer, Remote"
    assert first.score == ScoreRange(87, 87)  # 0.87 in the score column wins over the notes
    assert second.score == ScoreRange(72, 72)  # empty score column: "MATCH 72%" in the notes
    assert first.key == "url:https://jobs.example.com/a1" and third.job.url == ""
    assert third.key == "row:data analyst|linkedin"  # no link: title and provider


def test_a_row_with_cells_beyond_the_header_is_refused() -> None:
    sheet = read_sheet("Projekt;Status\nJob A;offen\nJob B;offen;oops\n".encode())
    planned, failed, _ = plan_sheet(sheet, load_mapping(states=STATES), "pending")
    assert [r.job.title for r in planned] == ["Job A"]
    assert failed[0].number == 3 and "right of the last named column" in failed[0].reason


def test_status_words_contained_in_longer_text() -> None:
    mapping = load_mapping(states=STATES)
    assert mapping.state_of("abgelehnt vom Kunden") == "turned-down"
    assert mapping.state_of("Zugesagt!") == "hired"
    assert mapping.state_of("offen, aber abgelehnt") is None  # two states: ambiguous, not guessed


def test_a_user_mapping_adds_words_and_headers(tmp_path: Path) -> None:
    custom = tmp_path / "mapping.yml"
    custom.write_text("status:\n  sent: [rausgeschickt]\ncolumns:\n  title: [Auftrag]\n", encoding="utf-8")
    sheet = read_sheet("Auftrag;Status\nJob A;rausgeschickt\n".encode())
    planned, failed, _ = plan_sheet(sheet, load_mapping(custom, states=STATES), "pending")
    assert failed == [] and planned[0].state == "sent"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("status:\n  signed: [eingestellt]\n", "unknown states ['signed']"),
        ("columns:\n  salary_band: [Band]\n", "unknown columns ['salary_band']"),
        ("columns:\n  number: [no]\n", "quote them"),
        ("- just a list\n", "top level must be a mapping"),
    ],
)
def test_a_broken_mapping_is_refused_precisely(tmp_path: Path, content: str, message: str) -> None:
    custom = tmp_path / "mapping.yml"
    custom.write_text(content, encoding="utf-8")
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_mapping(custom, states=STATES)


def test_a_file_without_a_title_column_is_refused_whole() -> None:
    sheet = read_sheet(b"Firma;Status\nAcme;offen\n")
    with pytest.raises(RowError, match="no project/title column"):
        plan_sheet(sheet, load_mapping(states=STATES), "pending")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(CsvFileError, match="no header row"):
        read_sheet(b"\r\n;;\r\n")


def test_an_unclosed_quote_swallowing_a_big_file_is_refused_with_its_line() -> None:
    rows = "".join(f"{n};Project {n};offen;{'notes ' * 100}\n" for n in range(400))
    data = f'Nr;Projekt;Status;Notizen\n1;"Unclosed;offen;x\n{rows}'.encode()

    with pytest.raises(CsvFileError, match=r"line \d+: field larger than field limit .*unclosed quote"):
        read_sheet(data)
