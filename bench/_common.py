"""What the benches share: the bot as `vorhoelle serve` in its own process, the sandbox's call
counters read as reads and writes, percentiles, and reading the sandbox's store without an API
call (so that watching a bench never adds to the calls it counts).

Benches run as scripts (`.venv/bin/python bench/<name>.py`); importing this module puts the
repository on `sys.path`, so the test helpers in `tests/support/` are reused rather than copied.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.sandbox import RunningSandbox, start_in_thread  # noqa: E402
from bot.sandbox.control import SandboxControl  # noqa: E402
from tests.support.botserver import (  # noqa: E402
    LoggedProcess, install_hook_for, serve_process, served_bot_settings,
)
from tests.support.waiting import wait_until  # noqa: E402
from tests.support.world import World, new_world  # noqa: E402

READ_METHODS = {"GET", "HEAD"}


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank percentile (`q` from 0 to 100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def latency_line(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (f"p50 {percentile(ms, 50):.1f} ms  p90 {percentile(ms, 90):.1f} ms  "
            f"p99 {percentile(ms, 99):.1f} ms  max {max(ms):.1f} ms  mean {statistics.fmean(ms):.1f} ms")


def split_calls(counters: dict[str, Any], minus: Counter[str] | None = None) -> tuple[Counter[str], Counter[str]]:
    """The sandbox's counters as (reads, writes) by endpoint, without the calls in `minus`
    (`"PUT /projects/:id/issues/:iid"` -> count: what the bench itself made, not the bot)."""
    reads: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    for endpoint, statuses in counters["calls"].items():
        count = sum(statuses.values()) - (minus or Counter())[endpoint]
        if count:
            (reads if endpoint.split(" ", 1)[0] in READ_METHODS else writes)[endpoint] += count
    return reads, writes


def print_calls(title: str, calls: Counter[str], per: int) -> None:
    print(f"  {title}: {sum(calls.values()) / per:.2f} per transition ({sum(calls.values())} in all)")
    for endpoint, count in calls.most_common():
        print(f"    {count / per:6.2f}  {endpoint}")


def settle_calls(control: SandboxControl, quiet: float = 1.0, timeout: float = 120) -> dict[str, Any]:
    """The counters once no call has arrived for `quiet` seconds (the bot has nothing left to do)."""
    last = control.counters()
    still_since = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() - still_since < quiet:
        if time.monotonic() > deadline:
            raise TimeoutError("the bot kept calling GitLab")
        time.sleep(0.2)
        now = control.counters()
        if now["total"] != last["total"]:
            last, still_since = now, time.monotonic()
    return last


def store_of(sandbox: RunningSandbox) -> Any:
    """The sandbox's in-memory store (bot/sandbox/store.py): read it, never write it mid-run."""
    return sandbox.app.state.sandbox.store


@contextmanager
def sandbox_in_thread() -> Iterator[RunningSandbox]:
    sandbox = start_in_thread()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@contextmanager
def served_bot(world: World, config: dict[str, Any] | None = None,
               env: dict[str, str] | None = None) -> Iterator[LoggedProcess]:
    """`vorhoelle serve` for `world` on a free port, configured through the environment as in
    production (`config` becomes its VORHOELLE_CONFIG file, `env` adds variables), its webhook
    installed."""
    with tempfile.TemporaryDirectory(prefix="vorhoelle-bench-") as workdir:
        env = dict(env or {})
        if config:
            path = Path(workdir) / "vorhoelle.yml"
            path.write_text(yaml.safe_dump(config), encoding="utf-8")
            env["VORHOELLE_CONFIG"] = str(path)
        bot = serve_process(served_bot_settings(world), cwd=workdir, env=env)
        try:
            install_hook_for(bot, world)
            yield bot
        finally:
            bot.stop()


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def machine() -> str:
    return f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}"


__all__ = [
    "REPO", "SandboxControl", "World", "latency_line", "machine", "new_world", "percentile",
    "print_calls", "rss_mb", "sandbox_in_thread", "served_bot", "settle_calls",
    "split_calls", "store_of", "timed", "wait_until",
]
