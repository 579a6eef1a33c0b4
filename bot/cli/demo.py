"""`vorhoelle demo`: see the whole product work in a minute, with nothing configured.

Runs bot/demo/run.py: a sandbox GitLab and the bot on free local ports, a project and its people, the
sample matches staged and reviewed every way there is, the bot stopped and caught up.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a sandbox GitLab and the bot, and watch a review from staging to sent",
        description=(
            "Start the sandbox GitLab and `vorhoelle serve` as child processes on free local ports,\n"
            "create a project with a reviewer, a guest and the bot user, sync the labels, install the\n"
            "webhook and stage the sample matches. Then play the reviewer: approve by label, reject by\n"
            "comment, approve with /accept, a guest refused, a 👍, a /send; stop the bot, change a match\n"
            "while it is down, and start the bot again to see its catch-up record the change.\n\n"
            "Each step prints one line once GitLab shows that it worked; notifications go to the console\n"
            "channel and are printed. Your own VORHOELLE_* settings are ignored.\n"
            "Exit status: 0 every step worked, 1 a step did not (it is named), 2 bad arguments, 130 Ctrl-C."
        ),
        epilog="example: vorhoelle demo            (half a minute; --fast skips the pauses)\n"
               "         vorhoelle demo --keep     (then explore with the printed URLs and tokens)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--fast", action="store_true", help="no pauses between steps")
    parser.add_argument(
        "--keep", action="store_true",
        help="leave the sandbox and the bot running at the end (not after Ctrl-C); print their URLs, the tokens "
             "and how to stop them",
    )
    parser.add_argument("--summary", metavar="FILE", type=Path,
                        help="write what happened as JSON: steps, people, each match's state and history, notifications")
    parser.add_argument("--state", metavar="FILE", type=Path,
                        help="keep the sandbox's state in FILE (must not exist yet); reload it later with "
                             "`vorhoelle sandbox --state FILE`")
    parser.add_argument("--verbose", action="store_true", help="log what the demo itself does (process starts and stops)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo.run import Options, run_demo
    from bot.config.files import ENV_PREFIX

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ignored = sorted(name for name in os.environ if name.startswith(ENV_PREFIX))
    if ignored:
        log.warning("the demo brings its own GitLab and settings; ignoring %s", ", ".join(ignored))
        for name in ignored:  # this process only reads settings for the demo from here on
            del os.environ[name]
    return run_demo(Options(fast=args.fast, keep=args.keep, summary_file=args.summary, state_file=args.state))
