"""Time to ready and resident memory of `vorhoelle serve` with every channel enabled, against a
bare Starlette app on the same uvicorn set-up.

    .venv/bin/python bench/startup.py [--runs 5]

Each run starts a fresh process and polls it every 5 ms: the bare app (bench/webhook_ack.py
--serve-bare) until it answers; the bot, on a port picked beforehand, until `/health/live`
answers (listening: from here a webhook is held, not refused), until a webhook is acknowledged
(202: the bot has loaded and taken it), and until `/health/ready` says ready (GitLab reached,
token valid, project visible).
The bot has Slack, e-mail (Gmail API, a made-up OAuth token file), WhatsApp, GitLab to-do and
console enabled, against the sandbox GitLab in this process. One more start with
PYTHONPROFILEIMPORTTIME=1 lists which channel SDKs were imported before ready. Medians are
printed. Figures, not pass/fail; target: at most 1.5x the bare app's time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import LoggedProcess, machine, new_world, rss_mb, sandbox_in_thread, wait_until
from webhook_ack import start_bare

from tests.support.botserver import WEBHOOK_SECRET, bot_env, served_bot_settings

PUSH = json.dumps({"object_kind": "push", "ref": "refs/heads/elsewhere", "project": {"id": 0}, "commits": []}).encode()

SDKS = ("slack_sdk", "twilio", "googleapiclient", "google.auth", "smtplib")
POLL = 0.005


def channels(workdir: Path, reviewer: str) -> dict[str, Any]:
    token_file = workdir / "gmail-token.json"
    token_file.write_text(json.dumps({"client_id": "made-up.apps.example.com", "client_secret": "made-up",
                                      "refresh_token": "made-up", "token_uri": "http://127.0.0.1:9/token"}))
    return {"notify": {"channels": {
        "console": {"enabled": True, "outbox": str(workdir / "outbox.jsonl")},
        "gitlab_todo": {"enabled": True, "reviewer": reviewer},
        "slack": {"enabled": True, "webhook_url": "http://127.0.0.1:9/services/T000/B000/XXXX"},
        "email": {"enabled": True, "transport": "gmail", "sender": "bot@example.com", "to": ["alex@example.com"],
                  "gmail": {"token_file": str(token_file)}},
        "whatsapp": {"enabled": True, "account_sid": "AC" + "0" * 32, "auth_token": "made-up",
                     "from_number": "+14155550100", "to": ["+14155550101"], "content_sid": "HX" + "0" * 32},
    }}}


def status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return 0


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def acknowledged(url: str) -> bool:
    """A webhook (a Push Hook to another branch: checked, parsed, nothing to do) answered 2xx."""
    try:
        response = httpx.post(f"{url}/webhook", content=PUSH, timeout=30, headers={
            "Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET})
    except httpx.TransportError:
        return False
    return response.is_success


def start_bot(env: dict[str, str], workdir: Path) -> dict[str, float]:
    """One start: seconds to listening, to the first webhook taken and to ready; the RSS then."""
    url = f"http://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    bot = LoggedProcess("serve", "--port", url.rsplit(":", 1)[1], env=env, cwd=str(workdir))
    try:
        wait_until(lambda: status(f"{url}/health/live") == 200, timeout=60, interval=POLL, message="live")
        live = time.perf_counter() - started
        wait_until(lambda: acknowledged(url), timeout=60, interval=POLL, message="a webhook taken")
        webhook = time.perf_counter() - started
        wait_until(lambda: status(f"{url}/health/ready") == 200, timeout=60, interval=POLL, message="ready")
        return {"live": live, "webhook": webhook, "ready": time.perf_counter() - started,
                "rss": rss_mb(bot.process.pid), "lines": bot.lines}
    finally:
        bot.stop()


def start_plain() -> dict[str, float]:
    started = time.perf_counter()
    process, _ = start_bare(interval=POLL)
    try:
        return {"ready": time.perf_counter() - started, "rss": rss_mb(process.pid)}
    finally:
        process.terminate()
        process.wait(30)


IMPORT_LINE = re.compile(r"import time:\s*(\d+) \|\s*(\d+) \|(\s*)(\S+)\s*$")


def imports(lines: list[str]) -> dict[str, tuple[int, int]]:
    """`-X importtime` output: module -> (cumulative microseconds, nesting depth)."""
    return {m[4]: (int(m[2]), len(m[3]) // 2) for m in map(IMPORT_LINE.search, lines) if m}


def heaviest(profile: dict[str, tuple[int, int]], count: int = 6) -> str:
    top = sorted(((us, name) for name, (us, depth) in profile.items() if depth == 0), reverse=True)[:count]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in top)


def compile_once(workdir: Path, env: dict[str, str]) -> None:
    """Let every start use compiled bytecode, as an installed package and the Docker image do:
    with PYTHONDONTWRITEBYTECODE set (as on some machines) a checkout would compile the bot's
    modules at every start while the bare app's libraries come compiled. One unmeasured start of
    each writes the bytecode to a directory of the bench's own."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    start_plain()
    start_bot(env, workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each (default: %(default)s)")
    args = parser.parse_args()
    with sandbox_in_thread() as sandbox, tempfile.TemporaryDirectory(prefix="vorhoelle-startup-") as temp:
        workdir = Path(temp)
        world = new_world(sandbox)
        config = workdir / "vorhoelle.yml"
        config.write_text(json.dumps(channels(workdir, world.users["reviewer"]["username"])))
        env = {**bot_env(served_bot_settings(world)), "VORHOELLE_CONFIG": str(config)}
        compile_once(workdir, env)
        bare = [start_plain() for _ in range(args.runs)]
        bots = [start_bot(env, workdir) for _ in range(args.runs)]
        profiled = start_bot({**env, "PYTHONPROFILEIMPORTTIME": "1"}, workdir)

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    enabled = [line for line in bots[0]["lines"] if "notifications:" in line]
    print(f"startup bench — median of {args.runs} starts, {machine()}")
    print(f"  bare Starlette   ready {median(bare, 'ready') * 1000:6.0f} ms   RSS {median(bare, 'rss'):5.1f} MB")
    print(f"  vorhoelle serve  live  {median(bots, 'live') * 1000:6.0f} ms   webhook taken "
          f"{median(bots, 'webhook') * 1000:6.0f} ms   ready {median(bots, 'ready') * 1000:6.0f} ms"
          f"   RSS {median(bots, 'rss'):5.1f} MB")
    for key in ("live", "webhook", "ready"):
        print(f"  ratio {key} / bare: {median(bots, key) / median(bare, 'ready'):.2f}"
              f"{' (target <= 1.5)' if key == 'live' else ''}")
    print(f"  ratio RSS at ready / bare: {median(bots, 'rss') / median(bare, 'rss'):.2f}")
    print(f"  {enabled[0].split('notifications:', 1)[1].strip() if enabled else 'channels: not logged'}")
    profile = imports(profiled["lines"])
    print(f"  channel SDKs imported before ready: {', '.join(s for s in SDKS if s in profile) or 'none'}")
    print(f"  heaviest top-level imports: {heaviest(profile)}")


if __name__ == "__main__":
    main()
