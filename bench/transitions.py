"""A burst of reviews through GitLab and the bot: transitions per second, webhook-to-note latency,
and GitLab API calls per transition split into reads and writes.

    .venv/bin/python bench/transitions.py [--issues 150] [--threads 4]

Set-up: the sandbox GitLab in this process (so its store and counters are read without an API
call), `vorhoelle serve` in its own process with its webhook installed, N job-match issues
staged by the bot. Then reviewers act on every issue at once from `--threads` threads — a
label edit, a `/reject …` comment or a 👍, in turn — each one API call. Measured:

- transitions per second: from the first reviewer call of the burst to its last history note;
- latency: from the moment GitLab started the webhook delivery to the history note's creation,
  both stamped by the sandbox — for `--one-by-one` issues reviewed alone first, and in the
  burst, where it includes the wait in the bot's queue;
- calls: the sandbox's counters once the bot falls quiet, minus the reviewers' own calls;
- notes created per transition (the goal is 1.00: one step, one note — the outcome of its
  notifications is an edit of that note), and how many transitions a minute fit under GitLab.com's
  60 note creations a minute per user.

Figures, not pass/fail. The targets: 1.00 note created and at most 3 writes per transition.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import (
    SandboxControl, World, latency_line, machine, new_world, print_calls, sandbox_in_thread,
    served_bot, settle_calls, split_calls, store_of, wait_until,
)

from bot.markers import parse_markers
from bot.sandbox.store import parse_time

ISSUE = "/projects/:id/issues/:iid"
NOTE_CREATED = f"POST {ISSUE}/notes"
GITLAB_COM_NOTES_PER_MINUTE = 60
OWED_LABEL = "vorhoelle/notify-owed"
# The sandbox has no rate limit on unless asked; the pacer's default (50 record notes a minute,
# for GitLab.com's 60 note creations) would make this a bench of the pacer.
UNPACED = {"notify": {"notes_per_minute": 100_000}}
SILENT = {"notify": {"events": {"staged": [], "approved": [], "rejected": [], "sent": [], "refused": []}}}


def by_label(world: World, iid: int) -> str:
    world.project("reviewer").issues.update(iid, {"add_labels": "job-match/approved"})
    return f"PUT {ISSUE}"


def by_comment(world: World, iid: int) -> str:
    world.project("reviewer").issues.get(iid, lazy=True).notes.create({"body": "/reject too junior"})
    return f"POST {ISSUE}/notes"


def by_emoji(world: World, iid: int) -> str:
    world.project("reviewer").issues.get(iid, lazy=True).awardemojis.create({"name": "thumbsup"})
    return f"POST {ISSUE}/award_emoji"


WAYS: list[Callable[[World, int], str]] = [by_label, by_comment, by_emoji]


def history_notes(sandbox: Any, world: World) -> dict[int, float]:
    """iid -> when the bot's first transition note was created (Unix time), from the store."""
    store = store_of(sandbox)
    bot_id = world.users["bot"]["id"]
    issues = {i.id: i.iid for i in store.all("issues") if i.project_id == world.project_id}
    written: dict[int, float] = {}
    for note in store.all("notes"):
        if note.issue_id in issues and note.author_id == bot_id and any(
                m.kind == "transition" for m in parse_markers(note.body)):
            iid = issues[note.issue_id]
            at = parse_time(note.created_at).timestamp()
            written[iid] = min(at, written.get(iid, at))
    return written


def owed_labels(sandbox: Any, world: World) -> int:
    """How many issues still carry the label of a held notification (from the store)."""
    store = store_of(sandbox)
    owed = store.label_by_name(world.project_id, OWED_LABEL)
    return 0 if owed is None else sum(
        owed.id in i.label_ids for i in store.all("issues") if i.project_id == world.project_id)


def webhook_starts(sandbox: Any, hook_id: int, reviewer_id: int) -> dict[int, float]:
    """iid -> when GitLab started delivering the reviewer's event to the bot (Unix time)."""
    hook = store_of(sandbox).get("hooks", hook_id)
    started: dict[int, float] = {}
    for entry in list(hook.log):
        payload = entry.request_data
        actor = (payload.get("user") or {}).get("id")
        if entry.outcome != "delivered" or actor != reviewer_id:
            continue
        iid = (payload.get("issue") or payload.get("object_attributes") or {}).get("iid")
        at = entry.created_at.timestamp() - entry.execution_duration
        started[iid] = min(at, started.get(iid, at))
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=150, help="issues reviewed at once (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=4, help="reviewers acting in parallel (default: %(default)s)")
    parser.add_argument("--one-by-one", type=int, default=10,
                        help="issues reviewed first one at a time, for the latency without a queue (default: %(default)s)")
    parser.add_argument("--no-notify", action="store_true",
                        help="announce no event on any channel, to see the calls of the review alone")
    args = parser.parse_args()

    with sandbox_in_thread() as sandbox, SandboxControl(sandbox.url, sandbox.root_token) as control:
        world = new_world(sandbox)
        staging = world.project("bot")
        iids = [staging.issues.create({"title": f"Role {n} at Example AG", "labels": "job-match,job-match/pending"}).iid
                for n in range(args.issues)]
        with served_bot(world, SILENT if args.no_notify else UNPACED) as bot:
            hook_id = store_of(sandbox).all("hooks")[-1].id
            settle_calls(control)
            control.reset_counters()

            reviewer_calls: Counter[str] = Counter()
            alone = iids[:args.one_by_one]
            for n, iid in enumerate(alone):
                reviewer_calls[WAYS[n % len(WAYS)](world, iid)] += 1
                wait_until(lambda: iid in history_notes(sandbox, world), interval=0.01, message=f"#{iid}'s note")  # noqa: B023
            deliveries = webhook_starts(sandbox, hook_id, world.users["reviewer"]["id"])  # the log keeps 500
            burst = iids[len(alone):]
            started = time.time()
            with ThreadPoolExecutor(args.threads) as pool:
                done = pool.map(lambda n: WAYS[n % len(WAYS)](world, burst[n]), range(len(burst)))
                reviewer_calls.update(done)
            notes = wait_until(lambda: (lambda w: w if len(w) == len(iids) else None)(history_notes(sandbox, world)),
                               timeout=600, interval=0.2, message="a history note on every issue")
            deliveries |= webhook_starts(sandbox, hook_id, world.users["reviewer"]["id"])
            # A message held back (a failing channel) goes out with the next flush (every 30 s).
            wait_until(lambda: owed_labels(sandbox, world) == 0, timeout=120, interval=0.5,
                       message="held notifications to go out")
            counters = settle_calls(control)
            failed = [line for line in bot.lines if "Traceback" in line or " ERROR " in line]

    elapsed = max(notes[iid] for iid in burst) - started

    def latencies(group: list[int]) -> list[float]:
        return [notes[iid] - deliveries[iid] for iid in group if iid in deliveries]

    reads, writes = split_calls(counters, minus=reviewer_calls)
    count = len(iids)
    notify = "no notifications" if args.no_notify else "console notifications, unpaced"
    print(f"transitions bench — {count} issues, {args.threads} reviewer threads, {notify}, {machine()}")
    print(f"  burst: {len(burst) / elapsed:.1f} transitions per second ({len(burst)} in {elapsed:.2f} s)")
    print(f"  webhook -> history note, one at a time: {latency_line(latencies(alone))}")
    print(f"  webhook -> history note, in the burst:  {latency_line(latencies(burst))} (queueing included)")
    notes_each = writes[NOTE_CREATED] / count
    print(f"  notes created: {notes_each:.2f} per transition (goal 1.00); under GitLab.com's "
          f"{GITLAB_COM_NOTES_PER_MINUTE} note creations a minute: {GITLAB_COM_NOTES_PER_MINUTE / notes_each:.0f} transitions a minute")
    print_calls("GitLab reads", reads, count)
    print_calls("GitLab writes", writes, count)
    print(f"  errors in the bot's log: {len(failed)}")


if __name__ == "__main__":
    main()
