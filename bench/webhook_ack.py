"""How fast `POST /webhook` answers, against a bare Starlette endpoint on the same uvicorn set-up.

    .venv/bin/python bench/webhook_ack.py [--seconds 8] [--rounds 2] [--concurrency 8]

Both servers run as their own processes: `vorhoelle serve` (backed by the sandbox GitLab in
this process, its webhook secret set, INFO logging as in production) and a bare Starlette app
whose only route reads the body and answers 202, served by the bot's own `DrainingServer`. The
load comes from a third process: `--concurrency` threads, each with a keep-alive httpx client,
posting GitLab's Issue Hook example (a reviewer's label change on a real job-match issue) with a
valid token and a fresh Idempotency-Key, so every request is checked, parsed and queued — and
the issue is converged meanwhile, at most every `server.converge_spacing_seconds`, on the same
two cores ("bot, queued"). The
same event from another project ("bot, ignored") is checked and parsed but starts no converge:
the cost of the receiver alone. Rounds alternate the three to even out a busy machine.
Figures, not pass/fail; target ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import threading
import time
import uuid
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

from _common import REPO, latency_line, machine, new_world, sandbox_in_thread, served_bot, wait_until  # noqa: E402

PAYLOAD = REPO / "tests" / "fixtures" / "gitlab_payloads" / "issue_update_labels_DERIVED.json"


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


def load(url: str, headers: dict[str, str], body: bytes, seconds: float, concurrency: int, results: Any) -> None:
    """In its own process: post for `seconds`; hand back the latencies and the statuses."""
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        mine, seen = [], {}
        with httpx.Client(timeout=30) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = client.post(url, content=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}).status_code
                mine.append(time.perf_counter() - started)
                seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, statuses))


def measure(url: str, headers: dict[str, str], body: bytes, seconds: float, concurrency: int) -> tuple[list[float], dict[int, int]]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=load, args=(url, headers, body, seconds, concurrency, results))
    process.start()
    outcome = results.get(timeout=seconds + 120)
    process.join()
    return outcome


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
    parser.add_argument("--seconds", type=float, default=8, help="length of each measured run (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="bare/bot pairs (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default: %(default)s)")
    args = parser.parse_args()

    with sandbox_in_thread() as sandbox:
        world = new_world(sandbox)
        iid = world.project("bot").issues.create({"title": "Backend Engineer at Example GmbH",
                                                  "labels": "job-match,job-match/pending"}).iid
        queued = aimed(world, iid, world.project_id)
        ignored = aimed(world, iid, world.project_id + 10_000)   # another project's event
        headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Issue Hook",
                   "X-Gitlab-Token": "made-up-webhook-secret", "User-Agent": "GitLab/17.11.1-ee"}
        bare, bare_url = start_bare()
        try:
            with served_bot(world) as bot:
                targets = {"bare": (f"{bare_url}/webhook", queued), "bot, queued": (f"{bot.url}/webhook", queued),
                           "bot, ignored": (f"{bot.url}/webhook", ignored)}
                for url, body in targets.values():
                    measure(url, headers, body, 1, args.concurrency)   # warm-up
                runs: dict[str, list[tuple[list[float], dict[int, int]]]] = {name: [] for name in targets}
                for _ in range(args.rounds):
                    for name, (url, body) in targets.items():
                        runs[name].append(measure(url, headers, body, args.seconds, args.concurrency))
        finally:
            bare.terminate()
            bare.wait(30)

    print(f"webhook ack bench — {args.rounds} x {args.seconds:g} s per server, {args.concurrency} client threads, {machine()}")
    rates = {}
    for name, measured in runs.items():
        latencies = [s for run, _ in measured for s in run]
        statuses: dict[int, int] = {}
        for _, seen in measured:
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count
        rates[name] = len(latencies) / (args.rounds * args.seconds)
        print(f"  {name:<12} {rates[name]:7.1f} req/s  {latency_line(latencies)}  statuses {statuses}")
    for name in ("bot, queued", "bot, ignored"):
        print(f"  ratio {name} / bare: {rates[name] / rates['bare']:.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
