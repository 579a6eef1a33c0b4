"""The no-server CI template: valid YAML, only scheduled or manual runs, the project's own image
at a release's version (nothing installed at run time), and scripts that run as a runner's shell
runs them against GitLab (the sandbox)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.resources import resource_dir

TEMPLATE_TEXT = (resource_dir("config") / "gitlab-ci.yml").read_text(encoding="utf-8")
TEMPLATE = yaml.safe_load(TEMPLATE_TEXT)
JOBS = ("vorhoelle-catch-up", "pages")
REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


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
    assert sorted(os.listdir(tmp_path / "public")) == ["applications.csv", "dashboard.json", "index.html"]


def test_the_jobs_run_the_projects_own_image_at_a_release_version() -> None:
    """Nothing comes from a package index at run time: anyone could register a name there."""
    assert TEMPLATE["variables"]["VORHOELLE_IMAGE"] == f"$CI_REGISTRY/vorhoelle/vorhoelle:{VERSION}"
    for name in JOBS:
        assert job(name)["image"] == {"name": "$VORHOELLE_IMAGE", "entrypoint": [""]}
    assert "pip install" not in TEMPLATE_TEXT and "PIP_" not in TEMPLATE_TEXT
    assert f"ref: 'v{VERSION}'" in TEMPLATE_TEXT   # the include the comment shows matches the image


def test_the_projects_pipeline_publishes_that_image_for_release_tags() -> None:
    pipeline = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    image = pipeline["image"]
    pushed = [line for line in image["script"] if line.startswith("docker push")]
    assert pushed == ['docker push "$CI_REGISTRY_IMAGE:${IMAGE_TAG#v}"']
    release = image["rules"][0]
    assert release["if"] == r"$CI_COMMIT_TAG =~ /^v\d+\.\d+\.\d+$/"
    assert release["variables"] == {"IMAGE_TAG": "${CI_COMMIT_TAG}"}   # v0.1.0 -> :0.1.0, as the template pulls
    assert any(line.startswith("docker build") and line.endswith(" .") for line in image["script"])


def run_job(name: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The job's before_script and script in one shell, as a runner runs them: its variables
    expanded from the CI environment (GitLab expands variables in variables), `vorhoelle` on
    PATH as in the image."""
    variables = {**TEMPLATE["variables"], **job(name)["variables"]}
    expanded = {key: re.sub(r"\$(\w+)", lambda m: env.get(m[1], ""), str(value)) for key, value in variables.items()}
    shell = "set -e\n" + "\n".join([*job(name)["before_script"], *job(name)["script"]])
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VORHOELLE_")}
    return subprocess.run(["bash", "-c", shell], env={**clean, **expanded, **env, "PATH": path}, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_scripts_run_against_gitlab_as_a_scheduled_pipeline_runs_them(world, tmp_path: Path) -> None:
    ci = {"CI_SERVER_URL": world.url, "CI_PROJECT_ID": str(world.project_id), "CI_PIPELINE_SOURCE": "schedule",
          "CI_PROJECT_DIR": str(tmp_path)}
    refused = run_job("vorhoelle-catch-up", ci, tmp_path)
    assert (refused.returncode, refused.stderr.strip()) == (
        2, "Set the CI/CD variable VORHOELLE_GITLAB_TOKEN to the bot user's token.")

    ci["VORHOELLE_GITLAB_TOKEN"] = world.users["bot"]["token"]
    world.project("reviewer").issues.create({"title": "Backend engineer", "labels": "job-match,job-match/pending"})
    for name in JOBS:
        done = run_job(name, ci, tmp_path)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert sorted(os.listdir(tmp_path / "public")) == ["applications.csv", "dashboard.json", "index.html"]
    assert "Backend engineer" in (tmp_path / "public" / "applications.csv").read_text(encoding="utf-8")
