"""`--state` survives a restart; `vorhoelle sandbox` starts from the command line; control is wired."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import gitlab
import httpx
import pytest

from bot.sandbox import start_in_thread
from tests.support.waiting import wait_until
from tests.support.world import new_world


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "sandbox.json"
    first = start_in_thread(state_file=str(state))
    try:
        world = new_world(first)
        issue = world.project("bot").issues.create({"title": "kept", "labels": "job-match/pending"})
        issue.notes.create({"body": "a note"})
        issue.awardemojis.create({"name": "thumbsup"})
        uploaded = world.project("bot").upload("cv.txt", filedata=b"cv")
    finally:
        first.stop()
    assert json.loads(state.read_text())["version"] == 1
    second = start_in_thread(state_file=str(state))
    try:
        assert second.root_token == first.root_token
        bot = gitlab.Gitlab(second.url, private_token=world.users["bot"]["token"])
        again = bot.projects.get(world.path).issues.get(issue.iid)
        assert (again.title, again.labels, again.upvotes) == ("kept", ["job-match/pending"], 1)
        assert [n.body for n in again.notes.list()] == ["a note"]
        assert [e.action for e in again.resourcelabelevents.list()] == ["add"]
        download = httpx.get(
            f"{second.url}/{world.path}{uploaded['url']}",
            headers={"PRIVATE-TOKEN": world.users["bot"]["token"]},
        )
        assert download.content == b"cv"
        assert bot.projects.get(world.path).issues.create({"title": "next"}).iid == issue.iid + 1
    finally:
        second.stop()


def test_cli_help_lists_the_options():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--root-token", "--state"):
        assert option in done.stdout


def test_cli_starts_a_sandbox_and_prints_url_and_token():
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        url = re.search(r"at (http://\S+)", process.stdout.readline()).group(1)
        token = re.search(r"root token: (\S+)", process.stdout.readline()).group(1)
        gl = gitlab.Gitlab(url, private_token=token)
        wait_until(lambda: gl.version()[0] != "unknown", message="sandbox answering")
        gl.auth()
        assert gl.user.username == "root"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_control_surface_is_admin_only_and_injects_faults(sandbox, world):
    faults = f"{sandbox.url}/-/sandbox/faults"
    assert httpx.get(faults).status_code == 401
    assert httpx.get(faults, headers={"PRIVATE-TOKEN": world.users["bot"]["token"]}).status_code == 403
    admin = {"PRIVATE-TOKEN": sandbox.root_token}
    assert httpx.put(faults, headers=admin, json={"error_rate": 1.0, "statuses": {"502": 1}, "paths": ["*/labels"]}).status_code == 200
    try:
        answer = httpx.get(f"{sandbox.url}/api/v4/projects/{world.project_id}/labels", headers=admin)
        assert answer.status_code == 502
    finally:
        httpx.put(faults, headers=admin, json={})
    assert httpx.get(f"{sandbox.url}/api/v4/projects/{world.project_id}/labels", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe junk", "not UTF-8"),
        (b"[]", "not a JSON object"),
        (b'{"version": 99}', "version 99"),
        (b'{"version": 1, "next_ids": {}}', "'tables'"),
        (b'{"version": 1, "tables": {}}', "'next_ids'"),
        (b'{"version": 1, "tables": {"users": [{"id": 1}]}, "next_ids": {}}', "users"),
        (b'{"version": 1, "tables": {}, "next_ids": {"users": "many"}}', "next_ids"),
    ],
)
def test_cli_refuses_a_broken_state_file_in_one_line(tmp_path, content, complaint):
    state = tmp_path / "sandbox.json"
    state.write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(state) in lines[0] and complaint in lines[0]
    assert state.read_bytes() == content
