"""`vorhoelle stage` and `vorhoelle list` as separate processes, against the sandbox GitLab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.staging.conftest import issues_in, match

@pytest.fixture
def world(world, tmp_path):
    world.scratch = tmp_path
    return world


SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples" / "matches.json"


def vorhoelle(world, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a scratch directory (the console notifier's outbox lands there)."""
    env = {
        **os.environ,
        "VORHOELLE_GITLAB_URL": world.url,
        "VORHOELLE_GITLAB_TOKEN": world.users["bot"]["token"],
        "VORHOELLE_PROJECT": world.path,
        "VORHOELLE_STAGING__REVIEWER": world.users["reviewer"]["username"],
        "VORHOELLE_NOTIFY__CHANNELS__CONSOLE__ENABLED": "false",
        "VORHOELLE_NOTIFY__CHANNELS__GITLAB_TODO__ENABLED": "false",
        "VORHOELLE_LOGGING__FORMAT": "text",
    }
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120, cwd=world.scratch)


def test_stage_the_samples_then_again_from_a_new_process(world):
    samples = json.loads(SAMPLES.read_text(encoding="utf-8"))

    first = vorhoelle(world, "stage", str(SAMPLES), "--json")
    second = vorhoelle(world, "stage", str(SAMPLES))

    assert first.returncode == 0, first.stderr
    results = json.loads(first.stdout)
    expected = ["skipped" if m["score"] < 70 else "created" for m in samples]
    assert [r["outcome"] for r in results] == expected
    assert second.returncode == 0, second.stderr
    table = second.stdout.splitlines()
    assert table[0].split()[:3] == ["OUTCOME", "ISSUE", "SCORE"]
    assert [line.split()[0] for line in table[2:]] == [o.replace("created", "unchanged") for o in expected]
    issues = issues_in(world)
    assert len(issues) == expected.count("created")


def test_stage_yaml_from_standard_input(world):
    one = match("Cloud Architect", 87)

    done = vorhoelle(world, "stage", "-", "--json", stdin=yaml.safe_dump(one, allow_unicode=True))

    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["outcome"] == "created"
    assert world.project("maintainer").issues.get(result["iid"]).title == "[JOB-MATCH] 87% — Cloud Architect"


def test_yaml_dates_stay_the_text_written_and_a_bom_is_allowed(world, tmp_path):
    yaml_file, json_file = tmp_path / "m.yaml", tmp_path / "m.json"
    yaml_file.write_text("title: Data Engineer\nscore: 88\nstart: 2025-03-01\n", encoding="utf-8")
    json_file.write_text(json.dumps(match("Site Reliability Engineer", 90)), encoding="utf-8-sig")

    from_yaml = vorhoelle(world, "stage", str(yaml_file), "--json")
    from_json = vorhoelle(world, "stage", str(json_file), "--json")

    assert from_yaml.returncode == 0, from_yaml.stderr
    [staged] = json.loads(from_yaml.stdout)
    assert "| Start | 2025-03-01 |" in world.project("maintainer").issues.get(staged["iid"]).description
    assert from_json.returncode == 0, from_json.stderr
    assert json.loads(from_json.stdout)[0]["outcome"] == "created"


def test_a_file_that_is_not_utf8_is_a_clear_error(world, tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes('{"title": "Café", "score": 80}'.encode("cp1252"))

    done = vorhoelle(world, "stage", str(path))

    assert done.returncode == 2
    assert "not UTF-8 text" in done.stderr and "Traceback" not in done.stderr
    assert issues_in(world) == []


def test_invalid_input_names_the_field_and_stages_nothing(world, tmp_path):
    path = tmp_path / "matches.json"
    path.write_text(json.dumps([match(), {"title": "x", "score": "very high"}]), encoding="utf-8")

    done = vorhoelle(world, "stage", str(path))

    assert done.returncode == 2
    assert "match 1: score:" in done.stderr
    assert issues_in(world) == []


def test_a_missing_file_is_a_clear_error(world, tmp_path):
    done = vorhoelle(world, "stage", str(tmp_path / "nope.json"))

    assert done.returncode == 2 and "cannot read" in done.stderr


def test_list_as_table_and_json(world, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([match("Alpha", 95), match("Beta", 75)]), encoding="utf-8")
    assert vorhoelle(world, "stage", str(path)).returncode == 0

    table = vorhoelle(world, "list", "--min-score", "90")
    as_json = vorhoelle(world, "list", "--state", "pending", "--json")
    wrong = vorhoelle(world, "list", "--state", "lost")

    assert table.returncode == 0, table.stderr
    assert "Alpha" in table.stdout and "Beta" not in table.stdout and "page 1 of 1 (1 match)" in table.stdout
    page = json.loads(as_json.stdout)
    assert [(m["score"], m["state"]) for m in page["items"]] == [(75, "pending"), (95, "pending")]
    assert wrong.returncode == 2 and "unknown state 'lost'" in wrong.stderr


def test_gitlab_failing_part_way_prints_what_was_staged_and_fails(world, sandbox, tmp_path):
    import base64

    from bot.sandbox.control import SandboxControl

    cv = {"name": "cv.pdf", "content": base64.b64encode(b"%PDF-1.4 made-up CV").decode()}
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps([match(title="Goes in"), match(title="Needs an upload", attachments=[cv])]))
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.faults(error_rate=1.0, statuses={"500": 1}, paths=["*/uploads"])
        try:
            done = vorhoelle(world, "stage", str(path), "--json")
        finally:
            control.faults()

    assert done.returncode == 1, done.stderr
    assert [(r["title"], r["outcome"]) for r in json.loads(done.stdout)] == [
        ("Goes in", "created"), ("Needs an upload", "not_staged")]
    assert "GitLab answered 500" in done.stderr and "not_staged were not staged" in done.stderr
