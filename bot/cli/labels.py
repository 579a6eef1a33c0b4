"""`vorhoelle labels sync`: create or update the labels the bot relies on, from the settings.

The marker label, one label per workflow state and the score labels; colour and description
follow the settings, so changing them in YAML and syncing again is how a project is restyled.
The labels themselves are defined in bot/staging/labels.py, which staging creates them from.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import command_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "labels",
        help="manage the project's job-match labels",
        description="Manage the labels Vorhölle uses in the configured GitLab project.",
    )
    actions = parser.add_subparsers(dest="labels_command", metavar="ACTION", required=True)
    sync = actions.add_parser(
        "sync",
        help="create or update the marker, state and score labels from the settings",
        description=(
            "Create missing labels and update colour and description of existing ones: the "
            "marker label (workflow.marker_label), every workflow state's label and the score "
            "labels (staging.score_labels). Prints one line per label: created, updated or "
            "unchanged. Other labels are left alone."
        ),
    )
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabAccess, GitLabError
    from bot.staging.labels import sync_labels

    settings = command_settings(args)
    try:
        report = sync_labels(GitLabAccess.from_settings(settings), settings)
    except GitLabError as error:
        print(f"vorhoelle labels: {error}", file=sys.stderr)
        return 1
    for name, status in report:
        print(f"{status:<9}  {name}")
    return 0
