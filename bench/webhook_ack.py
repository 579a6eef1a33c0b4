"""How fast `POST /webhook` answers, against a bare Starlette endpoint on the same uvicorn set-up.

    .venv/bin/python bench/webhook_ack.py [--seconds 2] [--rounds 8] [--connections 16]

Both servers run as their own processes: `vorhoelle serve` (backed by the sandbox GitLab in
this process, its webhook secret set, INFO logging as in production: one JSON line per webhook)
and a bare Starlette app whose only route reads the body and answers 202, served by uvicorn
configured as the bot configures it. The load comes from wrk (Debian's `wrk`, written in C, so
the load generator is not what is measured), one thread, `--connections` keep-alive connections,
posting GitLab's Issue Hook example (a reviewer's label change on a real job-match issue) with a
valid token and a fresh Idempotency-Key each request (bench/webhook_ack.lua), so every request
is checked, parsed and queued — and the issue is converged meanwhile, at most every
`server.converge_spacing_seconds`, on the same two cores ("bot, queued"). The same event from
another project ("bot, ignored") is checked and parsed but starts no converge: the cost of the
receiver alone. Rounds alternate the three, short ones: a shared machine changes speed from one
second to the next (the bare endpoint's rate moved between 3,400 and 5,300 req/s within a
minute), so each round's bot rate is compared with the same round's bare rate, and the bench
prints the median of those ratios as well as the ratio over all rounds.
Figures, not pass/fail; target ratio >= 0.9. Without wrk the bench says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def serve_bare() -> None:
    """The control: uvicorn configured as `vorhoelle serve` configures it (bot/web/server.py), one
    route, and nothing else imported — so that start-up and memory are the framework's own."""
    import socket

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def webhook(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "queued"}, status_code=202)

    sock = socket.create_server(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    app = Starlette(routes=[Route("/webhook", webhook, methods=["POST"])])
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__" and sys.argv[1:] == ["--serve-bare"]:
    serve_bare()   # before importing the bench's helpers, which load the whole bot
    sys.exit(0)

from _common import REPO, machine, new_world, sandbox_in_thread, served_bot, wait_until  # noqa: E402

PAYLOAD = REPO / "tests" / "fixtures" / "gitlab_payloads" / "issue_update_labels_DERIVED.json"
LUA = Path(__file__).with_suffix(".lua")


def start_bare(interval: float = 0.05) -> tuple[subprocess.Popen[str], str]:
    """This script again, as the bare server; returns it and its URL once it answers."""
    process = subprocess.Popen([sys.executable, __file__, "--serve-bare"], stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().split()[-1]
    wait_until(lambda: answers(url), interval=interval, message="the bare server")
    return process, url


def answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/", timeout=5).status_code == 404
    except httpx.TransportError:
        return False


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, headers: dict[str, str], body_file: Path, seconds: float, connections: int,
            pid: int) -> dict[str, Any]:
    """One wrk run: its summary (bench/webhook_ack.lua's last line) and the server's CPU time."""
    command = ["wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds:g}s",
               "--latency", "--script", str(LUA)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command += [url, "--", str(body_file)]
    cpu_before = cpu_seconds(pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "cpu_seconds": cpu_seconds(pid) - cpu_before}


def aimed(world: Any, iid: int, project_id: int) -> bytes:
    """GitLab's example, moved onto the world's issue and made the reviewer's act."""
    payload = json.loads(PAYLOAD.read_text())
    payload["project"]["id"] = project_id
    payload["object_attributes"].update(iid=iid, project_id=project_id)
    payload["user"] = {"id": world.users["reviewer"]["id"], "username": world.users["reviewer"]["username"],
                       "name": "Reviewer"}
    return json.dumps(payload).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=2, help="length of each measured run (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of the three targets (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's keep-alive connections (default: %(default)s)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("webhook ack bench skipped: wrk is not installed (Debian: apt-get install wrk)")
        return

    with sandbox_in_thread() as sandbox, tempfile.TemporaryDirectory(prefix="vorhoelle-bench-") as workdir:
        world = new_world(sandbox)
        iid = world.project("bot").issues.create({"title": "Backend Engineer at Example GmbH",
                                                  "labels": "job-match,job-match/pending"}).iid
        queued, ignored = Path(workdir, "queued.json"), Path(workdir, "ignored.json")
        queued.write_bytes(aimed(world, iid, world.project_id))
        ignored.write_bytes(aimed(world, iid, world.project_id + 10_000))   # another project's event
        headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Issue Hook",
                   "X-Gitlab-Token": "made-up-webhook-secret", "User-Agent": "GitLab/17.11.1-ee"}
        bare, bare_url = start_bare()
        try:
            # The default configuration: stderr is a pipe, so "auto" logs JSON lines.
            with served_bot(world, env={"VORHOELLE_LOGGING__FORMAT": "auto"}) as bot:
                pid = bot.process.pid
                targets = {"bare": (f"{bare_url}/webhook", queued, bare.pid),
                           "bot, queued": (f"{bot.url}/webhook", queued, pid),
                           "bot, ignored": (f"{bot.url}/webhook", ignored, pid)}
                for url, body, server in targets.values():
                    measure(url, headers, body, 1, args.connections, server)   # warm-up
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
                for _ in range(args.rounds):
                    for name, (url, body, server) in targets.items():
                        runs[name].append(measure(url, headers, body, args.seconds, args.connections, server))
        finally:
            bare.terminate()
            bare.wait(30)

    print(f"webhook ack bench (wrk) — {args.rounds} x {args.seconds:g} s per server, "
          f"{args.connections} connections, {machine()}")
    rates, cpu = {}, {}
    for name, measured in runs.items():
        rates[name] = sum(r["requests"] for r in measured) / sum(r["seconds"] for r in measured)
        cpu[name] = sum(r["cpu_seconds"] for r in measured) / sum(r["requests"] for r in measured) * 1e6
        worst = {key: max(r[key] for r in measured) for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms")}
        failed = sum(r["non_2xx"] + r["socket_errors"] for r in measured)
        print(f"  {name:<12} {rates[name]:7.1f} req/s  p50 {worst['p50_ms']:.1f} ms  p90 {worst['p90_ms']:.1f} ms  "
              f"p99 {worst['p99_ms']:.1f} ms  max {worst['max_ms']:.1f} ms  server CPU {cpu[name]:.0f} µs/request  "
              f"not 2xx or failed: {failed}")
    for name in ("bot, queued", "bot, ignored"):
        paired = [bot["requests"] / bot["seconds"] / (bare["requests"] / bare["seconds"])
                  for bot, bare in zip(runs[name], runs["bare"])]
        paired_cpu = [bare["cpu_seconds"] / bare["requests"] / (bot["cpu_seconds"] / bot["requests"])
                      for bot, bare in zip(runs[name], runs["bare"])]
        print(f"  ratio {name} / bare: {statistics.median(paired):.2f} in requests per second (target >= 0.9), "
              f"{statistics.median(paired_cpu):.2f} in server CPU per request (medians of the rounds' ratios; "
              f"over all rounds {rates[name] / rates['bare']:.2f} and {cpu['bare'] / cpu[name]:.2f})")


if __name__ == "__main__":
    main()
