"""`vorhoelle export` against the sandbox: every column of known issues, filters, dashboard.json."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from bot.tracker.table import COLUMNS
from tests.history.conftest import FIXTURES
from tests.history.scenario import Known, make_known
from tests.support.world import World

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "dashboard.schema.json").read_text(encoding="utf-8"))


def added_at(world: World, iid: int, label: str) -> datetime:
    """When GitLab says `label` was put on the issue (its resource label event)."""
    events = world.project("reviewer").issues.get(iid, lazy=True).resourcelabelevents.list(get_all=True)
    stamp = next(e.created_at for e in events if e.action == "add" and e.label["name"] == label)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [title for _, title in COLUMNS]
        return {row["Application ID"]: row for row in reader}


@pytest.fixture
def known(world: World, vorhoelle) -> Known:
    assert vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv")).code == 0  # issues #1-#3
    return make_known(world)


def test_every_column_of_known_issues(world: World, vorhoelle, known: Known, tmp_path: Path) -> None:
    out = tmp_path / "applications.csv"
    result = vorhoelle("export", "--csv", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = read_rows(out)

    assert sorted(rows, key=int) == ["1", "2", "3", str(known.full), str(known.staged), str(known.forged)]
    sent_at = added_at(world, known.full, "job-match/sent")
    assert rows[str(known.full)] == {
        "Application ID": str(known.full),
        "Company": "Initech",
        "Job title": "Platform Engineer",
        "Status": "sent",
        "Application date": sent_at.date().isoformat(),
        "Source": "freelancermap",
        "Location": "Hamburg",
        "Job URL": "https://jobs.example.org/platform",
        "Employment type": "Freelance",
        "Rate or salary range": "100 €/h",
        "Match score": "91",
        "Requirements met": "Python; Kubernetes",
        "Requirements missing": "Go",
        "Skill suggestions": "Learn Go",
        "Last event type": "sent",
        "Last event date": sent_at.isoformat(timespec="seconds"),
        "Notes": "great fit",
    }
    rejected_at = added_at(world, known.staged, "job-match/rejected")
    assert rows[str(known.staged)] == {
        "Application ID": str(known.staged),
        "Company": "",
        "Job title": "Data <Scientist>",  # read back from staging's escaped Markdown
        "Status": "rejected",
        "Application date": "",
        "Source": "GULP",
        "Location": "Berlin",
        "Job URL": "https://jobs.example.org/data?id=7&ref=x",
        "Employment type": "",
        "Rate or salary range": "90 EUR/h",
        "Match score": "78",
        "Requirements met": "Python",
        "Requirements missing": "R; SQL | dbt (partial)",
        "Skill suggestions": "",
        "Last event type": "rejected",
        "Last event date": rejected_at.isoformat(timespec="seconds"),
        "Notes": "too junior",
    }
    forged = rows[str(known.forged)]
    assert (forged["Company"], forged["Match score"], forged["Source"], forged["Notes"]) == ("", "", "", "")
    assert (forged["Job title"], forged["Status"], forged["Last event type"]) == ("Looks like a match", "pending", "staged")
    imported = rows["2"]
    assert imported == {
        "Application ID": "2",
        "Company": "Globex",
        "Job title": "Site Reliability Engineer",
        "Status": "turned-down",  # "rejected" with an application date: the employer's no
        "Application date": "2024-03-04",
        "Source": "Indeed",
        "Location": "",
        "Job URL": "https://jobs.example.com/a2",
        "Employment type": "",
        "Rate or salary range": "",
        "Match score": "72",
        "Requirements met": "",
        "Requirements missing": "",
        "Skill suggestions": "",
        "Last event type": "sent",  # the row's own application date
        "Last event date": "2024-03-04T00:00:00+00:00",
        "Notes": "MATCH 72%, rejected: too junior",
    }


def test_filters_are_recorded_in_dashboard_json(vorhoelle, tmp_path: Path) -> None:
    out = tmp_path / "dashboard.json"
    site = tmp_path / "site"
    assert vorhoelle("export", "--json", str(out), "--site", str(site), "--state", "sent", "--since", "04.03.2024").code == 0
    assert (site / "index.html").read_text(encoding="utf-8").count("No data yet") == 6  # an empty project draws
    dashboard = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(dashboard)
    assert dashboard["filters"] == {"state": ["sent"], "since": "2024-03-04"}
    assert dashboard["applications"] == [] and dashboard["decision_time"]["median_hours"] is None


def test_filters(vorhoelle, known: Known, tmp_path: Path) -> None:
    def ids(*options: str) -> list[str]:
        out = tmp_path / "filtered.csv"
        assert vorhoelle("export", "--csv", str(out), *options).code == 0
        return sorted(read_rows(out), key=int)

    assert ids("--state", "sent") == ["1", "3", str(known.full)]  # row 3: pending, but with an application date
    assert ids("--state", "sent", "--state", "turned-down") == ["1", "2", "3", str(known.full)]
    assert ids("--provider", "gulp") == [str(known.staged)]
    assert ids("--provider", "LinkedIn", "--provider", "Indeed") == ["1", "2", "3"]
    assert ids("--since", "2024-03-02", "--until", "04.03.2024") == ["2"]


def test_dashboard_json_follows_its_schema_and_counts_right(world: World, vorhoelle, known: Known, tmp_path: Path) -> None:
    out = tmp_path / "dashboard.json"
    assert vorhoelle("export", "--json", str(out)).code == 0
    dashboard = json.loads(out.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(dashboard)
    assert dashboard["schema_version"] == 1
    assert dashboard["states"] == {"pending": 1, "approved": 0, "rejected": 1, "sent": 3, "no-reply": 0, "interview": 0,
                                   "offer": 0, "hired": 0, "declined": 0, "turned-down": 1, "withdrawn": 0}
    assert [(f["stage"], f["count"]) for f in dashboard["funnel"]] == [
        ("staged", 6), ("approved", 4), ("sent", 4), ("interview", 0), ("offer", 0), ("hired", 0)]
    assert dashboard["rejected_share"] == 0.25
    assert dashboard["decision_time"]["count"] == 2  # the imported rows carry no decision date
    assert {p["provider"]: p["total"] for p in dashboard["providers"]} == {
        "LinkedIn": 2, "(none)": 1, "GULP": 1, "Indeed": 1, "freelancermap": 1,
    }
    assert {b["bucket"]: b["count"] for b in dashboard["score_distribution"]} == {
        "90-100": 1, "80-89": 1, "70-79": 2, "60-69": 1, "50-59": 0, "0-49": 0, "none": 1,
    }
    weeks = dashboard["per_week"]
    assert weeks[0] == {"week": "2024-W09", "count": 1} and weeks[1] == {"week": "2024-W10", "count": 2}
    assert sum(w["count"] for w in weeks) == 6
    by_iid = {a["issue_iid"]: a for a in dashboard["applications"]}
    assert by_iid[known.full]["decided_by"] == world.users["reviewer"]["username"]
    assert by_iid[known.forged]["decided_by"] == ""  # a person's forged transition marker is no history


def test_the_site_is_written_with_its_json(vorhoelle, known: Known, tmp_path: Path) -> None:
    site = tmp_path / "public"
    result = vorhoelle("export", "--site", str(site))
    assert result.code == 0 and f"wrote {site / 'index.html'}" in result.err
    html = (site / "index.html").read_text(encoding="utf-8")
    assert html.count('<svg class="chart"') == 6
    assert "Data &lt;Scientist&gt;" in html and "Data <Scientist>" not in html
    assert json.loads((site / "dashboard.json").read_text(encoding="utf-8"))["funnel"][0]["count"] == 6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "say what to write"),
        (("--csv", "-", "--state", "maybe"), "unknown state maybe; known states: pending, approved, rejected, sent"),
        (("--csv", "-", "--since", "soon"), "'soon' is not a date"),
    ],
)
def test_invalid_options_are_refused(vorhoelle, options: tuple[str, ...], message: str) -> None:
    result = vorhoelle("export", *options)
    assert result.code == 2 and message in result.err


def test_gitlab_unreachable_is_a_failure_not_a_crash(vorhoelle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "glpat-fake-invalid")
    result = vorhoelle("export", "--csv", "-")
    assert result.code == 1 and "401" in result.err


def test_a_new_score_for_an_imported_row_keeps_the_facts_only_the_row_knew(vorhoelle, tmp_path: Path) -> None:
    sheet = tmp_path / "bewerbungen.csv"
    sheet.write_text("Projekt;Firma;Anbieter;Art;Link;Match;Status\n"
                     "Go Developer;Globex;GULP;Freelance;https://jobs.example.org/go-7;75%;offen\n", encoding="utf-8")
    assert vorhoelle("import-csv", str(sheet)).code == 0
    match = tmp_path / "matches.json"
    match.write_text(json.dumps([{"title": "Go Developer", "score": 91, "provider": "Hays",
                                  "url": "https://jobs.example.org/go-7"}]), encoding="utf-8")
    assert vorhoelle("stage", str(match)).code == 0

    out = tmp_path / "applications.csv"
    assert vorhoelle("export", "--csv", str(out)).code == 0
    [row] = read_rows(out).values()
    assert (row["Company"], row["Employment type"]) == ("Globex", "Freelance")
    assert (row["Match score"], row["Source"]) == ("91", "Hays")  # what the new match says wins
