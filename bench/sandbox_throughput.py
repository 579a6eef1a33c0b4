"""How fast is the sandbox GitLab? Requests per second for the writes the bot makes most.

    .venv/bin/python bench/sandbox_throughput.py [--count 300]

python-gitlab over real HTTP against an in-process sandbox, one client, sequential requests:
issue creation, note creation and label update (add + remove in one call). Later benchmarks of
the bot can subtract this to see how much of their time is the sandbox. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import gitlab

from bot.sandbox import start_in_thread


def rate(label: str, count: int, action: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for n in range(count):
        action(n)
    per_second = count / (time.perf_counter() - started)
    print(f"{label:<14} {count:>5} requests  {per_second:8.1f} req/s")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="requests per kind (default: %(default)s)")
    count = parser.parse_args().count
    sandbox = start_in_thread()
    try:
        gl = gitlab.Gitlab(sandbox.url, private_token=sandbox.root_token)
        project = gl.projects.create({"name": "throughput"})
        issue = project.issues.create({"title": "target", "labels": "job-match/pending"})
        states = ["job-match/pending", "job-match/approved"]
        rate("issue create", count, lambda n: project.issues.create({"title": f"match {n}"}))
        rate("note create", count, lambda n: issue.notes.create({"body": f"note {n}"}))
        rate(
            "label update",
            count,
            lambda n: project.issues.update(
                issue.iid, {"add_labels": states[(n + 1) % 2], "remove_labels": states[n % 2]}
            ),
        )
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
