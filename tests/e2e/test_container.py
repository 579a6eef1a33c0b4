"""What the container relies on: `vorhoelle serve` listens where `PORT` says (Cloud Run sets it),
and the image's HEALTHCHECK command finds the bot there."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.botserver import LoggedProcess, bot_env, served_bot_settings

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def healthcheck_command() -> list[str]:
    """The HEALTHCHECK's exec form, with this interpreter standing in for the image's `python`."""
    [command] = re.findall(r"^HEALTHCHECK .*?CMD (\[.*?\])$", DOCKERFILE.read_text(), re.S | re.M)
    argv = json.loads(command)
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_listens_on_port_and_the_healthcheck_finds_it_there(world, tmp_path):
    port = free_port()
    env = {**bot_env(served_bot_settings(world)), "PORT": str(port), "VORHOELLE_SERVER__PORT": None}
    bot = LoggedProcess("serve", env=env, cwd=str(tmp_path))
    try:
        assert bot.wait_for(r"listening on (http://\S+)").group(1) == f"http://127.0.0.1:{port}"
        assert httpx.get(f"http://127.0.0.1:{port}/health/live").json() == {"status": "live"}
        check = subprocess.run(healthcheck_command(), env={**env_of(env)}, capture_output=True, text=True, timeout=30)
        assert (check.returncode, check.stderr) == (0, "")
    finally:
        assert bot.stop() in (0, -15)
    stopped = subprocess.run(healthcheck_command(), env=env_of(env), capture_output=True, text=True, timeout=30)
    assert stopped.returncode == 1
    assert stopped.stderr.startswith(f"healthcheck: http://127.0.0.1:{port}/health/live did not answer 200")


def env_of(changes: dict[str, str | None]) -> dict[str, str]:
    import os

    merged = {**os.environ, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def test_the_lock_pins_every_runtime_dependency_the_image_installs():
    """The Dockerfile installs requirements.lock, then the bot with --no-deps: a dependency
    missing from the lock would be missing from the image (its `pip check` says so at build)."""
    import tomllib

    from packaging.requirements import Requirement

    root = DOCKERFILE.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["slack"], *project["optional-dependencies"]["email"]]
    pinned = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==")
            pinned[name.strip().lower().replace("_", "-")] = version.strip()
    for spec in map(Requirement, wanted):
        name = spec.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock; refresh it (README, Deployment)"
        assert spec.specifier.contains(pinned[name]), (name, pinned[name], str(spec.specifier))
    assert "requirements.lock" in (root / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim@sha256:[0-9a-f]{64}$", (root / "Dockerfile").read_text(), re.M)
