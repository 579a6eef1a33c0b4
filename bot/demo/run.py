"""`vorhoelle demo`: the whole product working on this machine before a single token is created.

The sandbox GitLab and the bot run as two child processes of one process group, as they would in
real life: stopping the bot really stops its webhook receiver, so GitLab's deliveries really fail
and the catch-up on restart has something real to find; and Ctrl-C (or a failing step) takes the
whole group down. The story itself — a project, its people, staged matches, a reviewer's day — is
in bot/demo/steps.py; this module runs it, one checked step at a time, and cleans up.

Every step waits, polling GitLab with a timeout, until the bot's history note and labels show that
the step worked, so the exit status means something: 0 when every step produced what it should,
1 naming the first step that did not.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx

from bot.config.files import ENV_PREFIX
from bot.waiting import wait_until

log = logging.getLogger(__name__)

T = TypeVar("T")

STEP_TIMEOUT = 60.0   # generous: two CPU cores may be busy with other things
WATCHABLE_PAUSE = 1.2


class StepFailed(Exception):
    """A step did not produce what it should; the message says what was missing."""


def poll(check: Callable[[], T | None], what: str, timeout: float = STEP_TIMEOUT, interval: float = 0.1) -> T:
    """Call `check` until it returns something truthy; StepFailed naming `what` after `timeout`."""
    return cast(T, wait_until(check, timeout, interval, lambda _: StepFailed(f"no {what} after {timeout:.0f} s")))


# --- The two processes -----------------------------------------------------------------------------


class Services:
    """`vorhoelle sandbox` and `vorhoelle serve` as children in one process group of their own.

    Their own group keeps the terminal's Ctrl-C away from them (the demo stops them in order) and
    lets one `kill -TERM -<group>` stop both when `--keep` left them running. Output goes to
    `<name>.log` in the work directory, so they keep running after the demo exits.
    """

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.group = 0  # the first child's pid, once there is one
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def log_file(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self, name: str, args: list[str], ready: str, env: dict[str, str] | None = None) -> str:
        """Run `vorhoelle <args>` as `name`; return group 1 of the first new log line matching `ready`."""
        path = self.log_file(name)
        offset = path.stat().st_size if path.exists() else 0
        with path.open("ab") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", "bot", *args], stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, cwd=self.workdir, env={**self.env, **(env or {})},
                process_group=self.group,
            )
        self.group = self.group or child.pid
        self.children[name] = child
        log.info("started %s (pid %d, process group %d), log %s", name, child.pid, self.group, path)
        pattern = re.compile(ready)

        def announced() -> str | None:
            if child.poll() is not None:
                raise StepFailed(f"{name} exited with status {child.returncode} (log: {path})")
            with path.open("rb") as text:
                text.seek(offset)
                found = pattern.search(text.read().decode("utf-8", "replace"))
            return found.group(1) if found else None

        return poll(announced, f"start of {name} (log: {path})")

    def stop(self, name: str, timeout: float = 30) -> int:
        """SIGTERM, as a process manager would; SIGKILL if it does not go. Returns the exit status."""
        child = self.children[name]
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            status = child.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", name, timeout)
            child.kill()
            status = child.wait()
        log.info("%s stopped with status %s", name, status)
        return status

    def stop_all(self) -> None:
        """The bot first (its graceful stop still talks to GitLab), then everything else."""
        for name in sorted(self.children, key=lambda n: n != "bot"):
            self.stop(name)

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.log_file(name)
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


def child_environment() -> dict[str, str]:
    """This environment without any VORHOELLE_ setting: the demo brings its own GitLab and settings
    (a user's real Slack or GitLab must not hear from the demo)."""
    return {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}


# --- People in GitLab ------------------------------------------------------------------------------


class Account:
    """One GitLab user calling the REST API, as that person's clicks in the web UI would."""

    def __init__(self, url: str, token: str, user: dict[str, Any] | None = None) -> None:
        self.token = token
        self.user = user or {}
        self._http = httpx.Client(base_url=f"{url}/api/v4", headers={"PRIVATE-TOKEN": token}, timeout=30)

    @property
    def username(self) -> str:
        return self.user.get("username", "root")

    def call(self, method: str, path: str, /, **body: Any) -> Any:
        try:
            response = self._http.request(method, path, json=body or None)
        except httpx.TransportError as error:
            raise StepFailed(f"GitLab did not answer {method} {path}: {error}") from None
        if response.is_error:
            raise StepFailed(f"GitLab answered {response.status_code} to {method} {path}: {response.text[:300]}")
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()


def answers(url: str) -> bool:
    """The URL gives a 2xx answer (the health check and the sandbox's version page)."""
    try:
        return httpx.get(url, timeout=5).is_success
    except httpx.TransportError:
        return False


# --- What the bot told the console channel ---------------------------------------------------------


class Outbox:
    """The console channel's JSON-lines outbox: what Slack or e-mail would have received."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = 0

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]

    def message_for(self, event: str, source: str) -> dict[str, Any] | None:
        """The message announcing `event` (staged, approved, ...) caused by `source`, once sent."""
        return next(
            (entry for entry in self.entries()
             if any(item["event"] == event and item["source"] == source for item in entry.get("items", []))),
            None,
        )

    def unshown(self) -> list[dict[str, Any]]:
        """Messages not printed yet, and from now on counted as printed."""
        entries = self.entries()
        fresh, self.shown = entries[self.shown:], len(entries)
        return fresh


# --- Running the story ----------------------------------------------------------------------------


@dataclass
class Options:
    fast: bool = False
    keep: bool = False
    summary_file: Path | None = None
    state_file: Path | None = None


@dataclass
class Step:
    title: str
    run: Callable[[Any], str]  # does it, waits until GitLab shows it worked, says what happened


@dataclass
class Report:
    """What the demo did, printed at the end and written as JSON with --summary."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    failed: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None and bool(self.steps)


def say(line: str = "") -> None:
    print(line, flush=True)


def run_steps(scene: Any, steps: list[Step], options: Options, report: Report) -> None:
    """Each step in turn, one line each (plus the messages it caused); stops at the first failure."""
    width = len(str(len(steps)))
    for number, step in enumerate(steps, 1):
        prefix = f"[{number:>{width}}/{len(steps)}] {step.title}:"
        try:
            line = step.run(scene)
        except Exception as error:  # a failed step ends the demo; anything unforeseen too, named
            if not isinstance(error, StepFailed):
                log.exception("step %d (%s) crashed", number, step.title)
                error = StepFailed(f"{type(error).__name__}: {error}")
            report.failed = f"step {number} ({step.title}) failed: {error}"
            report.steps.append({"number": number, "title": step.title, "ok": False, "line": str(error)})
            say(f"{prefix} FAILED — {error}")
            return
        report.steps.append({"number": number, "title": step.title, "ok": True, "line": line})
        say(f"{prefix} {line}")
        for entry in scene.outbox.unshown():
            say(f"{' ' * (width * 2 + 4)}console notification: {entry['subject']}")
        if not options.fast:
            time.sleep(WATCHABLE_PAUSE)


def run_demo(options: Options) -> int:
    """Run the demo; 0 when every step worked, 1 when one did not, 130 on Ctrl-C."""
    from bot.demo.steps import STEPS, Scene, summarise

    if options.state_file is not None and options.state_file.exists():
        print(f"vorhoelle demo: {options.state_file} exists; the demo needs a fresh sandbox "
              "(remove it or choose another --state)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="vorhoelle-demo-"))
    services = Services(workdir, child_environment())
    scene = Scene(services=services, workdir=workdir, outbox=Outbox(workdir / "outbox.jsonl"),
                  root_token=f"demo-root-{secrets.token_urlsafe(12)}", state_file=options.state_file)
    report = Report()
    say(f"Vorhölle demo: a sandbox GitLab and the bot on this machine (work directory {workdir})")
    interrupted = False
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_steps(scene, STEPS, options, report)
        if report.ok:
            say()
            say(summarise(scene))
    except KeyboardInterrupt:
        interrupted = True
        report.failed = "interrupted"
        say("\ninterrupted: stopping the sandbox and the bot")
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        _finish(scene, report, options, keep=options.keep and not interrupted, show_logs=not interrupted)
    if interrupted:
        return 130
    if report.failed:
        say(f"vorhoelle demo: {report.failed}")
        return 1
    say("vorhoelle demo: every step worked.")
    return 0


def _finish(scene: Any, report: Report, options: Options, *, keep: bool, show_logs: bool) -> None:
    """Write the summary, show the logs of a failure, then stop everything (or say how to)."""
    services = scene.services
    if options.summary_file is not None:
        options.summary_file.write_text(json.dumps(scene.summary(report), indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    if report.failed and show_logs:
        for name in services.children:
            say(f"last lines of the {name}'s log ({services.log_file(name)}):\n{services.tail(name)}")
    scene.close()
    if keep:
        say(scene.how_to_explore())
        return
    services.stop_all()
    shutil.rmtree(scene.workdir, ignore_errors=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
