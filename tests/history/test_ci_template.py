"""The no-server CI template: valid YAML, only scheduled or manual runs, and commands that the
real `vorhoelle` command line accepts and runs against GitLab."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.resources import resource_dir

TEMPLATE = yaml.safe_load((resource_dir("config") / "gitlab-ci.yml").read_text(encoding="utf-8"))
JOBS = ("vorhoelle-catch-up", "pages")


def job(name: str) -> dict:
    """A job with its hidden base (`extends: .vorhoelle`) merged in, as GitLab does."""
    merged = {**TEMPLATE[".vorhoelle"], **TEMPLATE[name]}
    merged["variables"] = {**TEMPLATE["variables"], **TEMPLATE[".vorhoelle"]["variables"], **TEMPLATE[name].get("variables", {})}
    return merged


def commands(name: str) -> list[list[str]]:
    """The job's `vorhoelle` lines with the template's own variable defaults filled in."""
    values = job(name)["variables"]
    lines = [line for line in job(name)["script"] if line.startswith("vorhoelle ")]
    return [shlex.split(re.sub(r"\$(\w+)", lambda m: values.get(m[1], ""), line))[1:] for line in lines]


def test_jobs_run_on_schedules_and_manual_runs_only() -> None:
    for name in JOBS:
        assert [rule["if"] for rule in job(name)["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule" || $CI_PIPELINE_SOURCE == "web"']
    assert job("pages")["rules"][0]["when"] == "always"  # the dashboard is published after a failed catch-up too
    assert job("pages")["needs"] == ["vorhoelle-catch-up"]


def test_pages_publishes_public() -> None:
    pages = job("pages")
    assert pages["stage"] == "deploy" and pages["artifacts"]["paths"] == ["public"]
    assert job("vorhoelle-catch-up")["stage"] == ".pre"


def test_the_bot_is_configured_from_the_pipeline() -> None:
    variables = job("pages")["variables"]
    assert variables["VORHOELLE_GITLAB_URL"] == "$CI_SERVER_URL" and variables["VORHOELLE_PROJECT"] == "$CI_PROJECT_ID"
    assert "VORHOELLE_GITLAB_TOKEN" not in variables  # a secret: a masked CI/CD variable, never the file
    assert any("VORHOELLE_GITLAB_TOKEN" in line for line in job("pages")["before_script"])


@pytest.mark.parametrize("name", JOBS)
def test_every_command_is_one_the_cli_accepts(name: str) -> None:
    parser = build_parser()
    for argv in commands(name):
        assert parser.parse_args(argv).func is not None


def test_the_pages_command_builds_the_site(vorhoelle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # as in CI: relative to the project directory
    [argv] = commands("pages")
    result = vorhoelle(*argv)
    assert result.code == 0, result.err
    assert sorted(os.listdir(tmp_path / "public")) == ["applications.csv", "dashboard.json", "index.html", "interviews.ics"]
