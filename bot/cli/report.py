"""`vorhoelle report`: what the numbers say (bot/tracker/numbers.py), as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="the funnel, response rates per source/provider/score, time in each state, the backlog",
        description=(
            "Read every job-match issue and print the funnel staged → approved → sent → replied → "
            "interview → offer → hired with counts and conversions, per source, provider and score "
            "band the response rate, interview rate and median days to the first reply, the time in "
            "each state, matches staged per week and the review backlog over time."
        ),
        epilog="example: vorhoelle report --since 2026-10-01 --until 2026-12-31 --json",
    )
    parser.add_argument("--since", metavar="DATE", help="only applications staged on or after DATE (2026-10-01)")
    parser.add_argument("--until", metavar="DATE", help="only applications staged before the end of DATE")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def text_report(figures: dict[str, Any]) -> str:
    """The figures as plain text tables."""
    lines = [f"{figures['applications']} applications", "", "Funnel           count  of staged  from the step before"]
    lines += [f"  {r['step']:<14} {r['count']:>5}  {_pct(r['of_staged']):>9}  {_pct(r['conversion']):>9}"
              for r in figures["funnel"]]
    for title, key in (("source", "by_source"), ("provider", "by_provider"), ("score band", "by_score_band")):
        lines += ["", f"By {title:<28}  sent  replied  interview  median days to reply"]
        lines += [f"  {r['group'][:30]:<30} {r['sent']:>4}  {_pct(r['response_rate']):>7}  "
                  f"{_pct(r['interview_rate']):>9}  {r['median_days_to_reply'] if r['median_days_to_reply'] is not None else '-':>8}"
                  for r in figures[key]] or ["  (nothing sent)"]
    lines += ["", "Time in state     stays  median days  slowest"]
    lines += [f"  {r['state']:<15} {r['count']:>5}  {r['median_days']:>11}  {r['slowest_days']} days (#{r['slowest_iid']})"
              for r in figures["time_in_state"]]
    lines += ["", "Staged per week"] + [f"  {r['week']}  {r['count']}" for r in figures["staged_per_week"]]
    lines += ["", "Review backlog (waiting at the end of the week)"]
    lines += [f"  {r['week']}  {r['waiting']}" for r in figures["review_backlog"]]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta, timezone

    from bot.cli.stage import EXIT_FAILED, EXIT_INVALID
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.tracker.dates import DateError, parse_date, start_of_day
    from bot.tracker.export import read_applications
    from bot.tracker.numbers import in_period, numbers
    from bot.tracker.table import Filters

    settings = command_settings(args)
    try:
        since = start_of_day(day) if args.since and (day := parse_date(args.since)) else None
        until = start_of_day(day) + timedelta(days=1) if args.until and (day := parse_date(args.until)) else None
        gitlab = GitLabAccess.from_settings(settings)
    except (DateError, ValueError, GitLabError) as error:
        print(f"vorhoelle report: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        apps = in_period(read_applications(gitlab, settings.workflow, Filters()), since, until)
    except GitLabError as error:
        print(f"vorhoelle report: {error}", file=sys.stderr)
        return EXIT_FAILED
    figures = numbers(apps, datetime.now(timezone.utc))
    sys.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False) + "\n" if args.json else text_report(figures))
    return 0
