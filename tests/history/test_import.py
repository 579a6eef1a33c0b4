"""`vorhoelle import-csv` against the sandbox GitLab: issues, markers, re-runs, dry runs."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bot.markers import parse_markers
from tests.history.conftest import FIXTURES
from tests.support.world import World


def job_issues(world: World) -> list:
    return world.project("reviewer").issues.list(labels="job-match", state="all", get_all=True, order_by="created_at", sort="asc")


def markers_of(issue) -> dict:
    return {m.kind: m for m in parse_markers(issue.description)}


def test_every_valid_row_becomes_an_issue_and_bad_rows_are_listed(world: World, vorhoelle) -> None:
    result = vorhoelle("import-csv", str(FIXTURES / "bewerbungen_excel_de.csv"))

    assert result.code == 1  # some rows failed
    assert "cp1252, separated by ';', 11 rows" in result.out
    assert "11 rows: created 6, skipped 0, failed 5 (rows 7, 8, 9, 10, 11, each said above)" in result.out
    assert re.search(r"^  row 7: failed: unknown status 'vielleicht'", result.out, re.M)
    assert "  row 8: failed: date: '31.02.2024' is not a real date" in result.out
    assert "  row 9: failed: the project/title cell is empty" in result.out
    assert "  row 10: failed: match score: no score in 'über 9000'" in result.out
    assert "  row 11: failed: link 'javascript:alert(1)' is not an http(s) URL" in result.out
    assert result.out.count("javascript:alert(1)") == 1  # each failure said once, in row order
    lines = [int(m) for m in re.findall(r"^  row (\d+):", result.out, re.M)]
    assert lines == sorted(lines)
    assert re.search(r"^  row 2: created #\d+: Senior Python Entwickler", result.out, re.M)  # progress

    issues = {markers_of(i)["imported"].data["row"]: i for i in job_issues(world)}
    assert sorted(issues) == [2, 3, 4, 5, 6, 13]
    sent = issues[2]
    assert sorted(sent.labels) == ["job-match", "job-match/sent", "match-score/medium"]
    assert sent.title == "[JOB-MATCH] 85% — Senior Python Entwickler (m/w/d)"
    assert sent.author["username"] == world.users["bot"]["username"]
    imported = markers_of(sent)["imported"]
    assert imported.source == "import:url:https://www.freelancermap.de/projekt/senior-python-1"
    assert imported.data == {
        "row": 2, "file": "bewerbungen_excel_de.csv", "status": "versendet", "applied": "2024-02-03",
        "decided": None, "notes": "Ansprechpartner: Frau Weiß\nRückruf am Montag",
        "interviews": [], "replied": None, "outcome": None,
    }
    match = markers_of(sent)["match"]
    assert match.source == "match:https://www.freelancermap.de/projekt/senior-python-1"
    assert match.data["score"] == 85 and match.data["company"] == "Müller & Söhne GmbH"
    assert "| Rate | 95 €/h |" in sent.description
    ranged = markers_of(issues[3])["match"].data
    assert (ranged["score"], ranged["score_max"]) == (75, 80)
    assert "job-match/turned-down" in issues[3].labels and "[JOB-MATCH] 75-80% — Data Engineer – Spark" == issues[3].title
    assert issues[3].state == "closed"  # abgelehnt after applying: the employer's no, a final state
    assert sorted(issues[4].labels) == ["job-match", "job-match/sent", "match-score/high"]  # offen, but applied
    assert "job-match/hired" in issues[5].labels and "job-match/sent" in issues[6].labels


def test_a_row_scored_below_the_staging_threshold_gets_no_score_label(world: World, vorhoelle) -> None:
    assert vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv")).code == 0

    labels = {i.title: sorted(i.labels) for i in job_issues(world)}
    assert labels["[JOB-MATCH] 65% — Data Analyst"] == ["job-match", "job-match/sent"]  # threshold 70
    assert "match-score/medium" in labels["[JOB-MATCH] 72% — Site Reliability Engineer"]


def test_a_score_above_100_is_reported_not_read_as_its_last_digits(world: World, vorhoelle, tmp_path: Path) -> None:
    sheet = tmp_path / "scores.csv"
    sheet.write_text("Projekt;Match\nPython Developer;1000%\nGo Developer;MATCH 85%!\n", encoding="utf-8")

    result = vorhoelle("import-csv", str(sheet))

    assert "  row 2: failed: match score: score not understood: 1000% is more than 100 %" in result.out
    assert [i.title for i in job_issues(world)] == ["[JOB-MATCH] 85% — Go Developer"]


def test_untrusted_spreadsheet_text_stays_inert(world: World, vorhoelle) -> None:
    vorhoelle("import-csv", str(FIXTURES / "bewerbungen_excel_de.csv"))
    evil = next(i for i in job_issues(world) if markers_of(i)["imported"].data["row"] == 13)

    assert evil.state == "opened"  # "/close" in the title ran no quick action
    assert "## \\/close Sicherheits-Audit \\@all" in evil.description
    assert "&lt;b&gt;Evil&lt;/b&gt; Corp" in evil.description
    assert '\\=HYPERLINK\\("http://evil.example"\\)' in evil.description  # no formula, no link
    assert "<b>" not in evil.description
    assert evil.description.count("<!-- vorhoelle:") == 2  # the bot's two markers, no forged one


def test_a_rerun_skips_what_is_there_and_a_grown_sheet_adds_only_new_rows(world: World, vorhoelle) -> None:
    first = vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv"))
    assert first.code == 0 and "3 rows: created 3, skipped 0, failed 0" in first.out

    again = vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv"))
    assert again.code == 0 and "3 rows: created 0, skipped 3, failed 0" in again.out
    assert re.search(r"^  row 2: skipped: already imported as #\d+", again.out, re.M)

    grown = vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom_grown.csv"))
    assert grown.code == 0 and "6 rows: created 2, skipped 4, failed 0" in grown.out
    # A-6 names a new number but the posting of A-1: the same application.
    assert re.search(r"^  row 7: skipped: already imported as #1$", grown.out, re.M)
    titles = sorted(i.title for i in job_issues(world))
    assert titles == [
        "[JOB-MATCH] 65% — Data Analyst",
        "[JOB-MATCH] 72% — Site Reliability Engineer",
        "[JOB-MATCH] 75-80% — QA Engineer",
        "[JOB-MATCH] 87% — Python Developer, Remote",
        "[JOB-MATCH] 95-100% — Platform Engineer",
    ]


def test_two_rows_of_one_posting_become_one_issue_in_the_first_run_too(world: World, vorhoelle, tmp_path: Path) -> None:
    sheet = tmp_path / "reposted.csv"
    sheet.write_text("Nr;Projekt;Link;Status\n"
                     "1;Python Developer;https://jobs.example.com/p/1;offen\n"
                     "2;Python Developer (reposted);https://jobs.example.com/p/1;offen\n", encoding="utf-8")

    result = vorhoelle("import-csv", str(sheet))

    assert result.code == 0 and "2 rows: created 1, skipped 1, failed 0" in result.out
    assert "  row 3: skipped: same application as row 2" in result.out
    assert [i.title for i in job_issues(world)] == ["[JOB-MATCH] Python Developer"]  # no score, no "?%"


def test_a_dry_run_writes_nothing(world: World, vorhoelle) -> None:
    result = vorhoelle("import-csv", "--dry-run", str(FIXTURES / "bewerbungen_excel_de.csv"))

    assert "11 rows: would create 6, skipped 0, failed 5" in result.out
    assert "  row 13: would create: /close Sicherheits-Audit @all [sent]" in result.out
    assert job_issues(world) == []
    assert world.project("reviewer").labels.list(get_all=True) == []  # not even the labels


def test_a_dry_run_without_gitlab_checks_the_rows(vorhoelle, monkeypatch) -> None:
    monkeypatch.delenv("VORHOELLE_GITLAB_TOKEN")
    result = vorhoelle("import-csv", "--dry-run", str(FIXTURES / "unicode_text_utf16_tabs.csv"))

    assert result.code == 0
    assert "checking the rows only" in result.out and "2 rows: would create 2" in result.out


def test_utf16_tab_separated_export(world: World, vorhoelle) -> None:
    result = vorhoelle("import-csv", str(FIXTURES / "unicode_text_utf16_tabs.csv"))
    assert result.code == 0 and "utf-16, separated by tab" in result.out
    assert sorted(i.title for i in job_issues(world)) == ["[JOB-MATCH] 70% — Scrum Master", "[JOB-MATCH] 82% — Kotlin-Entwickler"]


def test_unusable_input_is_refused_before_anything_is_written(world: World, vorhoelle, tmp_path: Path) -> None:
    missing = vorhoelle("import-csv", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "cannot read" in missing.err

    no_title = tmp_path / "no-title.csv"
    no_title.write_bytes(b"Firma;Status\nAcme;offen\n")
    refused = vorhoelle("import-csv", str(no_title))
    assert refused.code == 2 and "no project/title column" in refused.err

    bad_mapping = tmp_path / "mapping.yml"
    bad_mapping.write_text("status:\n  signed: [eingestellt]\n", encoding="utf-8")
    refused = vorhoelle("import-csv", "--mapping", str(bad_mapping), str(FIXTURES / "applications_utf8_bom.csv"))
    assert refused.code == 2 and "unknown states ['signed']" in refused.err
    assert job_issues(world) == []


def test_a_couple_of_hundred_rows(world: World, vorhoelle, tmp_path: Path) -> None:
    statuses = ["versendet", "abgelehnt", "offen", "zugesagt"]
    lines = ["Nr.;Projekt;Anbieter;Match;Status;Datum"] + [
        f"{n};Projekt {n};Anbieter {n % 7};{60 + n % 40}%;{statuses[n % 4]};{1 + n % 28:02d}.0{1 + n % 9}.2024"
        for n in range(1, 201)
    ]
    sheet = tmp_path / "gross.csv"
    sheet.write_bytes("\r\n".join(lines).encode("cp1252"))

    result = vorhoelle("import-csv", str(sheet))
    assert result.code == 0 and "200 rows: created 200, skipped 0, failed 0" in result.out
    assert len(job_issues(world)) == 200
    assert "200 rows: created 0, skipped 200" in vorhoelle("import-csv", str(sheet)).out


def test_throttled_creations_are_waited_for_not_lost(world: World, vorhoelle, sandbox, tmp_path: Path) -> None:
    """GitLab answers some creations 429 (Retry-After: 1); each row still becomes one issue."""
    control = httpx.Client(base_url=f"{sandbox.url}/-/sandbox", headers={"PRIVATE-TOKEN": sandbox.root_token})
    endpoint = "/projects/:id/issues"  # listing and creating
    sheet = tmp_path / "twelve.csv"
    sheet.write_text("Projekt;Status\n" + "".join(f"Projekt {n};offen\n" for n in range(1, 13)), encoding="utf-8")
    control.delete("/counters").raise_for_status()
    control.put("/faults", json={"error_rate": 0.3, "statuses": {"429": 1}, "paths": [endpoint], "seed": 7}).raise_for_status()
    try:
        result = vorhoelle("import-csv", str(sheet))
    finally:
        control.put("/faults", json={}).raise_for_status()

    assert result.code == 0 and "12 rows: created 12, skipped 0, failed 0" in result.out
    calls = control.get("/counters").json()["calls"][f"POST {endpoint}"]
    assert calls["201"] == 12 and calls["429"] >= 1  # refused, waited for, and retried
    assert sorted(i.title for i in job_issues(world)) == sorted(f"[JOB-MATCH] Projekt {n}" for n in range(1, 13))
