"""`vorhoelle sandbox`: run the embedded GitLab stand-in in the foreground.

For demos and for pointing the bot (or python-gitlab, or curl) at a GitLab without having one.
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the sandbox GitLab (REST API v4 subset) in the foreground",
        description=(
            "Serve a small GitLab stand-in: users and tokens, projects, members, labels, issues, "
            "notes with quick actions, label events, award emoji, to-dos, uploads and project "
            "webhooks, under /api/v4, plus an admin control surface under /-/sandbox/ (faults, "
            "rate limits, call counters). It starts empty except for the administrator 'root' "
            "(id 1). In memory unless --state is given."
        ),
        epilog=(
            "example: vorhoelle sandbox --port 8929 --state sandbox.json\n"
            "         curl -H 'PRIVATE-TOKEN: <printed token>' http://127.0.0.1:8929/api/v4/user"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8929, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--root-token",
        metavar="TOKEN",
        help="personal access token of 'root' (default: a random glpat- token, printed)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="JSON file to reload on start and rewrite (atomically) after every write",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.sandbox import bind, create_app, server_for, url_of
    from bot.sandbox.store import StateFileError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, error)
        return 1
    url = url_of(sock)
    try:
        app = create_app(url, root_token=args.root_token, state_file=args.state)
    except StateFileError as error:
        sock.close()
        log.error("cannot load the sandbox state: %s", error)
        return 1
    print(f"Sandbox GitLab at {url}  (API: {url}/api/v4)", flush=True)
    if args.root_token is None:
        print(f"root token: {app.state.root_token}", flush=True)
    if args.state:
        print(f"state file: {args.state}", flush=True)
    server_for(app).run(sockets=[sock])
    return 0
