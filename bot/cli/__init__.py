"""`vorhoelle`: one command, one sub-command per capability.

Each module named in `COMMANDS` adds its own sub-command with `register(subparsers)` and sets
`func` to the function that runs it; `main` only parses and dispatches, so `--help` always lists
exactly what exists.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bot import __version__

# Modules under bot/cli/, in the order `--help` lists them.
COMMANDS = [
    "serve",
    "stage",
    "list",
    "catch_up",
    "import_csv",
    "export",
    "hook",
    "actions",
    "labels",
    "notify",
    "sandbox",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vorhoelle",
        description="Vorhölle: stage job matches as GitLab issues and follow their review.",
    )
    parser.add_argument("--version", action="version", version=f"vorhoelle {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="YAML settings file (default: $VORHOELLE_CONFIG)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"bot.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
