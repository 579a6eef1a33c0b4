"""`vorhoelle demo` as a new user meets it: installed from a wheel, run outside the source tree.

The wheel is built from a copy of the project and installed into a fresh virtualenv, so a
template, setting or sample left out of the package data fails here. Dependencies are not
downloaded: the new virtualenv sees this environment's site-packages through a `.pth` line (its
own `.pth` files, such as the editable install's finder, are not read from there, so the source
tree stays invisible). What the demo says is then checked against the sandbox's own state file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.markers import parse_markers
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ["setup.py", "pyproject.toml", "README.md", "bot", "handlers", "templates", "config"]
STEPS = [
    "sandbox GitLab", "project and people", "labels", "bot", "webhook", "stage matches",
    "approve by label", "reject by comment", "approve from Slack", "guest is refused",
    "approve by emoji", "send", "a reply", "an interview", "an offer", "stop the bot", "change while the bot is down",
    "restart and catch up",
]
FINAL_STATES = ["offer", "rejected", "approved", "approved", "rejected"]  # the staged matches, in order
STEP_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] ([^:]+): (.*)$")


@dataclass
class Installed:
    python: Path
    vorhoelle: Path
    workdir: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("demo")
    source = base / "source"
    source.mkdir()
    for name in PACKAGED:  # a copy: building in place would leave build/ and egg-info in the tree
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", base / "dist", source],
                   check=True, capture_output=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((base / "dist").glob("vorhoelle-*.whl"))
    subprocess.run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], check=True, capture_output=True)
    workdir = base / "elsewhere"
    workdir.mkdir()
    return Installed(python, venv / "bin" / "vorhoelle", workdir)


class Demo:
    """`vorhoelle demo …` running, its output collected line by line as it comes."""

    def __init__(self, installed: Installed, *args: str) -> None:
        # Settings of the user's own must not reach the demo: this GitLab does not exist.
        env = {**os.environ, "VORHOELLE_GITLAB_URL": "http://127.0.0.1:9/no-gitlab", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([installed.vorhoelle, "demo", *args], cwd=installed.workdir, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def step_line(self, title: str, timeout: float = 120) -> str:
        return wait_until(lambda: next((line for line in list(self.lines) if (m := STEP_LINE.match(line)) and m[3] == title), None),
                          timeout, message=f"the step line of {title!r}; output so far:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = 300) -> int:
        status = self.process.wait(timeout)
        self._reader.join(10)
        return status

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
        return True
    except httpx.TransportError:
        return False


def urls_in(demo: Demo) -> tuple[str, str]:
    """The sandbox's and the bot's URLs, as steps 1 and 4 print them."""
    gitlab = re.search(r"answers at (http://\S+)/api/v4", demo.step_line("sandbox GitLab"))[1]
    bot = re.search(r"ready at (http://\S+)", demo.step_line("bot"))[1]
    return gitlab, bot


def sandbox_world(state_file: Path, project_path: str) -> dict[str, Any]:
    """The sandbox's state file read as: labels by issue iid, notes by issue iid, users by id."""
    tables = json.loads(state_file.read_text())["tables"]
    project = next(p for p in tables["projects"] if f"{p['namespace']}/{p['path']}" == project_path)
    labels = {label["id"]: label["name"] for label in tables["labels"] if label["project_id"] == project["id"]}
    issues = {i["id"]: i for i in tables["issues"] if i["project_id"] == project["id"]}
    return {
        "labels": {i["iid"]: {labels[lid] for lid in i["label_ids"]} for i in issues.values()},
        "notes": {i["iid"]: [n for n in tables["notes"] if n["issue_id"] == i["id"]] for i in issues.values()},
        "hooks": [h for h in tables["hooks"] if h["project_id"] == project["id"]],
    }


def test_the_installed_demo_shows_every_step_and_leaves_gitlab_as_it_says(installed: Installed, tmp_path: Path) -> None:
    where = subprocess.run([installed.python, "-c", "import bot; print(bot.__file__)"], cwd=installed.workdir,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(installed.python.parent.parent), "the wheel, not the source tree"
    summary_file, state_file = tmp_path / "summary.json", tmp_path / "sandbox.json"

    demo = Demo(installed, "--fast", "--summary", str(summary_file), "--state", str(state_file))
    status = demo.finish()

    assert status == 0, demo.output
    assert "every step worked" in demo.output
    steps = [m for m in map(STEP_LINE.match, demo.lines) if m]
    assert [m[3] for m in steps] == STEPS and all(m[2] == str(len(STEPS)) for m in steps), demo.output
    assert not any("FAILED" in m[4] for m in steps)
    said = {m[3]: m[4] for m in steps}
    assert "/reject too far away" in said["reject by comment"] and "pending → rejected" in said["reject by comment"]
    assert "pending → approved" in said["approve by label"] and "pending → approved" in said["approve by emoji"]
    assert "refuses (no_right)" in said["guest is refused"]
    assert "approved → sent" in said["send"]
    assert "records the reply (still sent)" in said["a reply"]
    assert "records the round (sent → interview, due date " in said["an interview"]
    assert "records the offer (interview → offer)" in said["an offer"]
    assert "delivery fails" in said["change while the bot is down"]
    assert "catch-up" in said["restart and catch up"] and "pending → rejected" in said["restart and catch up"]
    assert len(re.findall(r"console notification: \[Vorhölle\]", demo.output)) == 10  # 1 summary, 9 changes

    summary = json.loads(summary_file.read_text())
    assert summary["ok"] and [s["title"] for s in summary["steps"] if s["ok"]] == STEPS
    assert [m["state"] for m in summary["matches"]] == FINAL_STATES
    world = sandbox_world(state_file, summary["project"])
    bot_id, guest_id = summary["people"]["bot"]["id"], summary["people"]["guest"]["id"]
    for match in summary["matches"]:
        iid = match["iid"]
        assert f"job-match/{match['state']}" in world["labels"][iid]
        assert set(match["labels"]) == world["labels"][iid]
        history = [{"kind": m.kind, "source": m.source, "state": m.data.get("state")}
                   for note in world["notes"][iid] if note["author_id"] == bot_id
                   for m in parse_markers(note["body"]) if m.kind in ("transition", "refusal", "help")]
        assert [{k: h[k] for k in ("kind", "source", "state")} for h in match["history"]] == history
        assert sum(match["bot_notes"].values()) == sum(n["author_id"] == bot_id for n in world["notes"][iid])
    guest_note = next(n for notes in world["notes"].values() for n in notes if n["author_id"] == guest_id)
    refused = summary["matches"][3]["history"][0]
    assert (refused["kind"], refused["source"], refused["state"]) == ("refusal", f"note:{guest_note['id']}", "pending")
    assert [h["url"] for h in world["hooks"]] == [f"{summary['bot_url']}/webhook"]
    announced = {tuple(event) for note in summary["notifications"] for event in note["events"]}
    for match in summary["matches"]:
        for step in match["history"]:
            if step["kind"] == "transition":
                assert (step["event"], step["source"]) in announced  # the state reached, or a reply

    assert not answers(summary["gitlab_url"]) and not answers(summary["bot_url"]), "processes left running"


def test_ctrl_c_stops_the_sandbox_and_the_bot(installed: Installed) -> None:
    demo = Demo(installed, "--verbose")
    gitlab, bot = urls_in(demo)
    group = int(re.search(r"process group (\d+)", demo.output)[1])
    demo.process.send_signal(signal.SIGINT)

    assert demo.finish() == 130, demo.output
    assert "interrupted" in demo.output
    assert not answers(gitlab) and not answers(bot)
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)


@pytest.fixture
def port_holder() -> Iterator[list[socket.socket]]:
    held: list[socket.socket] = []
    yield held
    for sock in held:
        sock.close()


def test_a_failing_step_is_named_and_everything_is_stopped(installed: Installed, port_holder: list[socket.socket]) -> None:
    demo = Demo(installed)  # with its pauses, so there is time to act between two steps
    gitlab, bot = urls_in(demo)
    demo.step_line("stop the bot")
    taken = socket.create_server(("127.0.0.1", urlsplit(bot).port))  # the bot cannot come back there
    port_holder.append(taken)

    assert demo.finish() == 1, demo.output
    assert re.search(rf"\[{len(STEPS)}/{len(STEPS)}\] restart and catch up: FAILED — bot exited with status 1", demo.output), demo.output
    assert f"vorhoelle demo: step {len(STEPS)} (restart and catch up) failed" in demo.output
    assert "last lines of the bot's log" in demo.output
    assert not answers(gitlab)
