"""A realistic (made-up) German application history imported into the lifecycle, and the damaged
files spreadsheets and copying leave behind: every row ends in the right state, every problem is
reported once, in row order, with a hint."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.markers import parse_markers
from tests.history.conftest import FIXTURES
from tests.support.world import World

HISTORY = FIXTURES / "bewerbungshistorie_de.csv"
EXPECTED = {  # title -> (state, closed)
    "Python-Entwickler Zahlungsverkehr": ("sent", False),
    "Backend Engineer (Go)": ("sent", False),
    "Data Engineer Spark": ("interview", False),
    "DevOps Engineer Kubernetes": ("interview", False),
    "Cloud-Architekt Azure": ("interview", False),
    "ML Engineer Empfehlungen": ("offer", False),
    "Senior Python Entwickler": ("hired", True),
    "Scrum Master": ("hired", True),
    "Java Entwickler Versicherung": ("turned-down", True),
    "Frontend React": ("turned-down", True),
    "SAP Berater FI": ("rejected", False),  # abgelehnt without an application date
    "Tester Automotive": ("withdrawn", True),
    "Site Reliability Engineer": ("pending", False),  # offen, no date
    "Platform Engineer": ("sent", False),  # offen, but with an application date
    "Business Analyst": ("rejected", False),  # nicht beworben: not "beworben"
    "Rust Entwickler": ("no-reply", False),  # keine Antwort
    "Golang Architekt": ("declined", True),  # Angebot abgelehnt: not "Angebot"
}


def issues_by_title(world: World) -> dict[str, object]:
    issues = world.project("reviewer").issues.list(labels="job-match", state="all", get_all=True)
    return {re.sub(r"^\[JOB-MATCH\] (\d+% — )?", "", issue.title): issue for issue in issues}


def state_of(issue) -> str:
    return next(label.split("/", 1)[1] for label in issue.labels if label.startswith("job-match/"))


def test_a_german_application_history_lands_in_the_lifecycle(world: World, vorhoelle, tmp_path: Path) -> None:
    result = vorhoelle("import-csv", str(HISTORY))

    assert result.code == 1, result.out  # the unknown word fails its two rows
    assert "19 rows: created 17, skipped 0, failed 2 (rows 18, 19, each said above)" in result.out
    assert re.search(r"^  row 18: failed: unknown status 'vielleicht' — add it under `status:` in a --mapping file \(known: ",
                     result.out, re.M)
    assert "  row 19: failed: unknown status 'vielleicht' — as in row 18" in result.out
    assert result.out.count("known: ") == 1  # the word list once, not per row
    numbers = [int(n) for n in re.findall(r"^  row (\d+):", result.out, re.M)]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers)) == 19

    issues = issues_by_title(world)
    assert {title: (state_of(i), i.state == "closed") for title, i in issues.items()} == EXPECTED
    assert "[JOB-MATCH] Cloud-Architekt Azure" in [i.title for i in issues.values()]  # k.A.: no score, no "?%"
    assert not any("?%" in i.title for i in issues.values())
    assert "Ärzte-Zentrum Süd" in issues["Data Engineer Spark"].description  # umlauts intact

    out = tmp_path / "dashboard.json"
    assert vorhoelle("export", "--json", str(out)).code == 0
    apps = {a["job_title"]: a for a in json.loads(out.read_text(encoding="utf-8"))["applications"]}
    devops = [(e["kind"], e["at"][:10]) for e in apps["DevOps Engineer Kubernetes"]["timeline"]]
    assert devops == [("imported", "2026-09-06"), ("sent", "2026-09-06"), ("reply", "2026-09-11"),
                      ("round", "2026-09-16"), ("round", "2026-09-23")]
    hired = apps["Senior Python Entwickler"]
    assert (hired["status"], hired["last_event_type"], hired["last_event_date"][:10]) == ("hired", "hired", "2026-09-25")
    assert apps["Rust Entwickler"]["last_event_type"] == "sent" and apps["Business Analyst"]["status"] == "rejected"

    again = vorhoelle("import-csv", str(HISTORY))
    assert "19 rows: created 0, skipped 17, failed 2" in again.out


def test_row_numbers_of_two_files_do_not_collide(world: World, vorhoelle, tmp_path: Path) -> None:
    first = tmp_path / "2025.csv"
    first.write_text("Nr;Projekt;Anbieter;Status\n1;Alpha;GULP;offen\n2;Beta;Hays;offen\n", encoding="utf-8")
    second = tmp_path / "2026.csv"
    second.write_text("Nr;Projekt;Anbieter;Status\n1;Gamma;GULP;offen\n2;Beta;Hays;offen\n", encoding="utf-8")
    assert vorhoelle("import-csv", str(first)).code == 0
    result = vorhoelle("import-csv", str(second))
    assert "2 rows: created 1, skipped 1, failed 0" in result.out  # Gamma is new; Beta is the same posting
    assert re.search(r"^  row 3: skipped: already imported as #2$", result.out, re.M)
    assert sorted(issues_by_title(world)) == ["Alpha", "Beta", "Gamma"]


def history_bytes(encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    return HISTORY.read_text(encoding="utf-8").replace(";", delimiter).encode(encoding)


def test_damaged_files_are_read_up_to_the_damage(world: World, vorhoelle, tmp_path: Path) -> None:
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_bytes(history_bytes() + '20;Letzte Zeile;"Firma ohne Ende;GULP;80%;versendet;19.09.2026\n'.encode())
    result = vorhoelle("import-csv", "--dry-run", str(unclosed))
    assert "  row 21: failed: a quote opened in this row is never closed" in result.out
    assert result.out.count("row 21") == 1 and "Firma ohne Ende" not in result.out
    assert "20 rows: would create 17, skipped 0, failed 3 (rows 18, 19, 21, each said above)" in result.out

    cut = tmp_path / "cut-utf8.csv"
    cut.write_bytes((history_bytes() + "20;Qualitätsmanager;Prü".encode())[:-1])  # half of the ü
    result = vorhoelle("import-csv", str(cut))
    assert "utf-8, separated by ';'" in result.out  # not Windows-1252 mojibake
    assert "  row 21: failed: the file ends in the middle of a character" in result.out
    assert "Ärzte-Zentrum Süd" in issues_by_title(world)["Data Engineer Spark"].description

    utf16 = tmp_path / "cut-utf16.csv"
    utf16.write_bytes(history_bytes("utf-16", "\t")[:-1])
    result = vorhoelle("import-csv", "--dry-run", str(utf16))
    assert "utf-16, separated by tab" in result.out
    assert "  row 20: failed: the file ends in the middle of a character" in result.out
    assert "  row 19: failed: unknown status 'vielleicht'" in result.out  # the rows before it are read


def test_the_imported_marker_holds_the_rows_dates(world: World, vorhoelle) -> None:
    vorhoelle("import-csv", str(HISTORY))
    devops = issues_by_title(world)["DevOps Engineer Kubernetes"]
    imported = next(m for m in parse_markers(devops.description) if m.kind == "imported")
    assert (imported.data["interviews"], imported.data["replied"], imported.data["outcome"]) == (
        ["2026-09-16", "2026-09-23"], "2026-09-11", None)
