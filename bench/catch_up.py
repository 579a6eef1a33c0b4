"""One catch-up pass over a big project where 1 % changed while the bot was down, against a full
scan: GitLab API calls and time.

    .venv/bin/python bench/catch_up.py [--issues 10000] [--changed 1] [--sample 300]

Set-up (not measured): the sandbox GitLab in this process and N job-match issues created
through the sandbox's own issue service (`bot/sandbox/issue_service.py::create_issue`, the code
behind `POST /issues`, without HTTP — 10,000 API calls would be most of the bench), dated two
days back, as if staged earlier. Then the bot "goes down": reviewers change `--changed` % of
the issues through the API (label edits and `/reject` comments).

Measured, with the bot's own GitLab access and converge (no notifier):
- catch-up: `catch_up_once` from the end of the last pass (minus the bot's one-minute overlap),
  which asks GitLab for `updated_after` only;
- full scan: every job-match issue listed, and converged. Listing is measured in full;
  converging is measured on `--sample` unchanged issues and scaled to N (said so in the output).
- full reconcile (`bot/reconcile.py`, what the bot does every `catch_up.full_every_hours`): the
  walk over every issue measured in full as a dry run; converging measured on `--sample` issues
  (progress records included) and scaled to N; unpaced, then the time the default pace
  (`catch_up.max_calls_per_minute`) stretches it to.
Figures, not pass/fail; target: catch-up calls grow with the changed issues, not with N.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from _common import SandboxControl, machine, new_world, sandbox_in_thread, split_calls, store_of

from bot.catch_up import OVERLAP, CatchUp, one_by_one
from bot.config.settings import load_settings
from bot.reconcile import Reconciler
from bot.runtime import converge
from bot.sandbox.issue_service import create_issue
from bot.sandbox.store import format_time
from tests.support.bot import bot_runtime

LABELS = ["job-match", "job-match/pending"]


def stage_directly(sandbox, world, count: int, at: datetime) -> list[int]:
    """`count` issues by the bot user, as staging leaves them, dated `at`."""
    context = sandbox.app.state.sandbox
    store = store_of(sandbox)
    bot = store.get("users", world.users["bot"]["id"])
    project = store.get("projects", world.project_id)
    stamp = format_time(at)
    iids = []
    for n in range(count):
        issue = create_issue(context, bot, project, f"Role {n} at Example AG", "Staged earlier.",
                             labels=LABELS, assignee_ids=[], confidential=False)
        issue.created_at = issue.updated_at = stamp
        iids.append(issue.iid)
    for event in store.all("label_events"):
        event.created_at = stamp
    return iids


def calls(control: SandboxControl) -> tuple[int, int]:
    reads, writes = split_calls(control.counters())
    return sum(reads.values()), sum(writes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000, help="job-match issues (default: %(default)s)")
    parser.add_argument("--changed", type=float, default=1.0, help="percent changed while down (default: %(default)s)")
    parser.add_argument("--sample", type=int, default=300, help="unchanged issues converged to cost the full scan")
    args = parser.parse_args()

    with sandbox_in_thread() as sandbox, SandboxControl(sandbox.url, sandbox.root_token) as control:
        world = new_world(sandbox)
        started = time.perf_counter()
        iids = stage_directly(sandbox, world, args.issues, datetime.now(timezone.utc) - timedelta(days=2))
        setup = time.perf_counter() - started
        last_pass = datetime.now(timezone.utc)   # the bot's last pass ended; then it went down
        reviewer = world.project("reviewer")
        step = max(1, round(100 / args.changed))
        changed = iids[::step]
        for n, iid in enumerate(changed):
            if n % 2:
                reviewer.issues.get(iid, lazy=True).notes.create({"body": "/reject too junior"})
            else:
                reviewer.issues.update(iid, {"add_labels": "job-match/approved"})
        runtime = bot_runtime(world)
        runtime.gitlab.bot_user, runtime.gitlab.project  # who and where: once per process, not per pass

        control.reset_counters()
        started = time.perf_counter()
        report = CatchUp(runtime).run_pass(one_by_one(lambda iid: converge(runtime, iid)), last_pass - OVERLAP)
        catch_up_time = time.perf_counter() - started
        catch_up_calls = calls(control)

        control.reset_counters()
        started = time.perf_counter()
        listed = list(runtime.gitlab.iter_issues(labels=LABELS[:1]))
        list_time = time.perf_counter() - started
        list_calls = calls(control)
        unchanged = [iid for iid in iids if iid not in set(changed)][: args.sample]
        control.reset_counters()
        started = time.perf_counter()
        for iid in unchanged:
            converge(runtime, iid)
        per_issue_time = (time.perf_counter() - started) / len(unchanged)
        per_issue_calls = [c / len(unchanged) for c in calls(control)]
        reconcile = full_reconcile(world, control, args.sample)

    scale = len(listed)
    full_calls = [list_calls[i] + per_issue_calls[i] * scale for i in range(2)]
    full_time = list_time + per_issue_time * scale
    print(f"catch-up bench — {args.issues} job-match issues, {len(changed)} changed while down, {machine()}")
    print(f"  set-up: {args.issues} issues through the sandbox's issue service in {setup:.1f} s (not measured below)")
    print(f"  catch-up pass:  {len(report.converged):>6} issues converged, {len(report.failed)} failed, "
          f"{catch_up_calls[0]:>6} reads, {catch_up_calls[1]:>5} writes, {catch_up_time:7.2f} s")
    print(f"  full scan:      {scale:>6} issues listed in {list_calls[0]} reads / {list_time:.2f} s; "
          f"converging all: ~{full_calls[0]:.0f} reads, ~{full_calls[1]:.0f} writes, ~{full_time:.0f} s "
          f"(converge measured on {len(unchanged)} issues, scaled to {scale})")
    print(f"  catch-up / full scan: {sum(catch_up_calls) / sum(full_calls):.3%} of the calls, "
          f"{catch_up_time / full_time:.3%} of the time")
    (walk_calls, walk_time), (step_calls, step_time), pace = reconcile
    whole = [walk_calls[i] + step_calls[i] * scale for i in range(2)]
    print(f"  full reconcile: {scale:>6} issues walked in {walk_calls[0]} reads / {walk_time:.2f} s; "
          f"converging all: ~{whole[0]:.0f} reads, ~{whole[1]:.0f} writes, ~{walk_time + step_time * scale:.0f} s "
          f"unpaced (measured on {args.sample} issues); at {pace} calls/min: ~{sum(whole) / pace:.0f} min")
    print(f"  catch-up / full reconcile: {sum(catch_up_calls) / sum(whole):.3%} of the calls")


def full_reconcile(world, control: SandboxControl, sample: int) -> tuple[tuple[list[float], float], ...]:
    """The walk (a dry run: lists every issue, converges none), then `sample` converges of a
    real run stopped there (as SIGTERM stops it), each as (reads, writes) and seconds; and the
    default pace."""
    runtime = bot_runtime(world, catch_up={"max_calls_per_minute": 10**9})   # measured unpaced
    control.reset_counters()
    started = time.perf_counter()
    Reconciler(runtime, CatchUp(runtime)).run(lambda iid: None, dry_run=True)
    walk = ([float(c) for c in calls(control)], time.perf_counter() - started)
    reconciler = Reconciler(runtime, CatchUp(runtime))
    done = []

    def step(iid: int) -> object:
        done.append(iid)
        if len(done) == sample:
            reconciler.stop()
        return converge(runtime, iid)

    control.reset_counters()
    started = time.perf_counter()
    reconciler.run(step)
    per_issue = ([c / len(done) for c in calls(control)], (time.perf_counter() - started) / len(done))
    return walk, per_issue, load_settings().catch_up.max_calls_per_minute


if __name__ == "__main__":
    main()
