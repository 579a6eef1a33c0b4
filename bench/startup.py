"""Time to ready and resident memory of `vorhoelle serve` with every channel enabled, against a
bare Starlette app on the same uvicorn set-up.

    .venv/bin/python bench/startup.py [--runs 3]

Each run starts a fresh process and polls it every 5 ms: the bare app (bench/webhook_ack.py
--serve-bare) until it answers, the bot until `/health/live` answers (listening) and until
`/health/ready` says ready (GitLab reached, token valid, project visible, catch-up started).
The bot has Slack, e-mail (Gmail API, a made-up OAuth token file), WhatsApp, GitLab to-do and
console enabled, against the sandbox GitLab in this process. One more start with
PYTHONPROFILEIMPORTTIME=1 lists which channel SDKs were imported before ready. Medians are
printed. Figures, not pass/fail; target: at most 1.5x the bare app's time.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import LoggedProcess, machine, new_world, rss_mb, sandbox_in_thread, wait_until
from webhook_ack import start_bare

from tests.support.botserver import bot_env, served_bot_settings

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


def start_bot(env: dict[str, str], workdir: Path) -> dict[str, float]:
    """One start: seconds to listening and to ready, and the RSS at ready."""
    started = time.perf_counter()
    bot = LoggedProcess("serve", "--port", "0", env=env, cwd=str(workdir))
    try:
        url = bot.wait_for(r"listening on (http://\S+)", timeout=60).group(1)
        wait_until(lambda: status(f"{url}/health/live") == 200, timeout=60, interval=POLL, message="live")
        live = time.perf_counter() - started
        wait_until(lambda: status(f"{url}/health/ready") == 200, timeout=60, interval=POLL, message="ready")
        return {"live": live, "ready": time.perf_counter() - started, "rss": rss_mb(bot.process.pid),
                "lines": bot.lines}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="starts of each (default: %(default)s)")
    args = parser.parse_args()
    with sandbox_in_thread() as sandbox, tempfile.TemporaryDirectory(prefix="vorhoelle-startup-") as temp:
        workdir = Path(temp)
        world = new_world(sandbox)
        config = workdir / "vorhoelle.yml"
        config.write_text(json.dumps(channels(workdir, world.users["reviewer"]["username"])))
        env = {**bot_env(served_bot_settings(world)), "VORHOELLE_CONFIG": str(config)}
        bare = [start_plain() for _ in range(args.runs)]
        bots = [start_bot(env, workdir) for _ in range(args.runs)]
        profiled = start_bot({**env, "PYTHONPROFILEIMPORTTIME": "1"}, workdir)

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    enabled = [line for line in bots[0]["lines"] if "notifications:" in line]
    print(f"startup bench — median of {args.runs} starts, {machine()}")
    print(f"  bare Starlette   ready {median(bare, 'ready') * 1000:6.0f} ms   RSS {median(bare, 'rss'):5.1f} MB")
    print(f"  vorhoelle serve  live  {median(bots, 'live') * 1000:6.0f} ms   ready {median(bots, 'ready') * 1000:6.0f} ms"
          f"   RSS {median(bots, 'rss'):5.1f} MB")
    print(f"  ratio (live / bare): {median(bots, 'live') / median(bare, 'ready'):.2f} (target <= 1.5)")
    print(f"  {enabled[0].split('notifications:', 1)[1].strip() if enabled else 'channels: not logged'}")
    profile = imports(profiled["lines"])
    print(f"  channel SDKs imported before ready: {', '.join(s for s in SDKS if s in profile) or 'none'}")
    print(f"  heaviest top-level imports: {heaviest(profile)}")


if __name__ == "__main__":
    main()
