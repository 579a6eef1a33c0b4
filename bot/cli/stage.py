"""`vorhoelle stage FILE|-`: stage matches from a JSON or YAML file, or standard input.

Talks to GitLab directly through bot/staging/stage.py (no running bot needed) and does exactly what
`POST /api/v1/matches` does: skip below the threshold, find an already staged match through
GitLab and update it only when its score changed, create the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import command_settings


EXIT_INVALID = 2
EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stage",
        help="stage job matches (a JSON or YAML file, or - for standard input) as GitLab issues",
        description=(
            "Stage one match (an object) or a cycle (a list) as GitLab issues, straight through "
            "the GitLab API. Matches below staging.threshold are skipped; a match staged before "
            "(same url, or same title and provider) is found in GitLab and only updated when its "
            "score changed. Exit status: 0 done, 1 GitLab or settings failed, 2 invalid input."
        ),
        epilog="example: vorhoelle stage bot/samples/matches.json   |   cat m.yaml | vorhoelle stage -",
    )
    parser.add_argument("source", metavar="FILE", help="matches.json, matches.yaml, or - for standard input")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def _load_yaml(text: str) -> Any:
    """YAML as a person writes a match: `start: 2025-03-01` stays that text, not a date object
    the model's string fields would refuse."""
    import yaml

    class TextDates(yaml.SafeLoader):
        pass

    TextDates.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
    return yaml.load(text, Loader=TextDates)


def read_matches(source: str) -> Any:
    """The data in `source`: JSON or YAML by file suffix; standard input may be either.

    The bytes must be UTF-8 (a byte-order mark, as Windows editors write one, is allowed);
    anything else raises UnicodeDecodeError rather than being guessed at.
    """
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    text = data.decode("utf-8-sig")
    if source.endswith((".yaml", ".yml")):
        return _load_yaml(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if source != "-":
            raise
        return _load_yaml(text)


def describe(error: Any) -> list[str]:
    """pydantic's errors as `match 2: rate.amount: Input should be ...` lines."""
    lines = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        where = f"match {loc.pop(0)}: " if loc and isinstance(loc[0], int) else ""
        field = ".".join(str(part) for part in loc) or "(the match itself)"
        lines.append(f"{where}{field}: {item['msg']}")
    return lines


def run(args: argparse.Namespace) -> int:
    import yaml
    from pydantic import ValidationError

    from bot.cli.tables import table
    from bot.gitlab_access import GitLabError
    from bot.staging.match import parse_matches
    from bot.runtime import build_runtime
    from bot.staging.stage import CycleInterrupted, StagingError, stage_cycle

    settings = command_settings(args)
    try:
        matches = parse_matches(read_matches(args.source), attachments=set(settings.staging.attachments))
    except UnicodeDecodeError as error:
        print(f"vorhoelle stage: cannot read {args.source}: not UTF-8 text (byte {error.start}: "
              f"{error.reason}); save it as UTF-8", file=sys.stderr)
        return EXIT_INVALID
    except (OSError, json.JSONDecodeError, yaml.YAMLError) as error:
        print(f"vorhoelle stage: cannot read {args.source}: {error}", file=sys.stderr)
        return EXIT_INVALID
    except ValidationError as error:
        print(f"vorhoelle stage: invalid match in {args.source}:", file=sys.stderr)
        print("\n".join(f"  {line}" for line in describe(error)), file=sys.stderr)
        return EXIT_INVALID
    failure = None
    try:
        # Standard output carries the results only; what the notifier prints goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            results = stage_cycle(build_runtime(settings), matches)
    except CycleInterrupted as interrupted:   # the results still say what was staged
        results, failure = interrupted.results, f"{interrupted}; the matches marked not_staged were not staged"
    except (GitLabError, StagingError) as error:
        print(f"vorhoelle stage: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in results], indent=2, ensure_ascii=False))
    else:
        rows = [(r.outcome, f"#{r.iid}" if r.iid else "", r.score, r.title, r.url or r.reason) for r in results]
        print(table(["OUTCOME", "ISSUE", "SCORE", "TITLE", "URL / REASON"], rows))
    if failure is not None:
        print(f"vorhoelle stage: {failure}", file=sys.stderr)
        return EXIT_FAILED
    return 0
