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
    "reconcile",
    "import_csv",
    "export",
    "hook",
    "actions",
    "labels",
    "notify",
    "config",
    "status",
    "selftest",
    "sandbox",
    "demo",
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
    from bot.config.files import ConfigError
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:  # any command: say what is wrong with the settings, no traceback
        print("vorhoelle: the settings cannot be used:", *error.problems, sep="\n  ", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: the command has stopped what it started; no traceback
        return 130


if __name__ == "__main__":
    sys.exit(main())
