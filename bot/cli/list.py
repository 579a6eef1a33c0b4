"""`vorhoelle list`: the staged matches as GitLab shows them now, newest first."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list staged job matches (state, score, issue) from GitLab",
        description="List staged job matches, newest first, read from GitLab (no running bot needed).",
        epilog="example: vorhoelle list --state pending --min-score 85",
    )
    parser.add_argument("--state", help="only matches in this workflow state (e.g. pending, approved)")
    parser.add_argument("--min-score", type=int, metavar="N", help="only matches scored at least N")
    parser.add_argument("--page", type=int, default=1, help="page number (default 1)")
    parser.add_argument("--per-page", type=int, default=50, metavar="N", help="matches per page, 1-100 (default 50)")
    parser.add_argument("--json", action="store_true", help="print the page as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.api.schemas import ListQuery
    from bot.cli.stage import EXIT_FAILED, EXIT_INVALID, describe
    from bot.cli.tables import table
    from bot.gitlab_access import GitLabError
    from bot.runtime import build_runtime
    from bot.staging.read import check_state, list_staged

    settings = command_settings(args)
    try:
        query = ListQuery(state=args.state, min_score=args.min_score, page=args.page, per_page=args.per_page)
        check_state(settings, query.state)
    except ValidationError as error:
        print("vorhoelle list: " + "; ".join(describe(error)), file=sys.stderr)
        return EXIT_INVALID
    except ValueError as error:
        print(f"vorhoelle list: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        page = list_staged(build_runtime(settings), **query.model_dump())
    except GitLabError as error:
        print(f"vorhoelle list: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(page.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    rows = [(f"#{m.iid}", m.state or "?", "" if m.score is None else m.score, m.gitlab_state, m.title, m.url)
            for m in page.items]
    print(table(["ISSUE", "STATE", "SCORE", "GITLAB", "TITLE", "URL"], rows))
    noun = "match" if page.total == 1 else "matches"
    total = f" of {page.total_pages} ({page.total} {noun})" if page.total is not None else ""
    print(f"page {page.page}{total}")
    return 0
