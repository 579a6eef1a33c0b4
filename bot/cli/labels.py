"""`vorhoelle labels sync`: create or update the labels the bot relies on, from the settings.

The marker label, one label per workflow state and the score labels; colour and description
follow the settings, so changing them in YAML and syncing again is how a project is restyled.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import command_settings


MARKER_LABEL_COLOR = "#6699CC"


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


def wanted_labels(settings: Any) -> list[dict[str, str]]:
    """Name, colour and description of every label the settings call for."""
    workflow = settings.workflow
    labels = [{"name": workflow.marker_label, "color": MARKER_LABEL_COLOR, "description": "A job match staged by Vorhölle"}]
    labels += [{"name": s.label, "color": s.color, "description": s.description} for s in workflow.states.values()]
    labels += [
        {"name": s.label, "color": s.color, "description": f"Match score of {s.min}% or more"}
        for s in settings.staging.score_labels
    ]
    return labels


def sync_labels(gitlab: Any, settings: Any) -> list[tuple[str, str]]:
    """Bring the project's labels in line with the settings; returns (name, what happened)."""
    existing = {label["name"]: label for label in gitlab.labels()}
    report = []
    for label in wanted_labels(settings):
        have = existing.get(label["name"])
        if have is None:
            gitlab.create_label(label["name"], label["color"], label["description"])
            report.append((label["name"], "created"))
        elif (have.get("color") or "").lower() != label["color"].lower() or (have.get("description") or "") != label["description"]:
            gitlab.update_label(label["name"], color=label["color"], description=label["description"])
            report.append((label["name"], "updated"))
        else:
            report.append((label["name"], "unchanged"))
    return report


def run_sync(args: argparse.Namespace) -> int:
    from bot.gitlab_access import GitLabAccess, GitLabError

    settings = command_settings(args)
    try:
        report = sync_labels(GitLabAccess.from_settings(settings), settings)
    except GitLabError as error:
        print(f"vorhoelle labels: {error}", file=sys.stderr)
        return 1
    for name, status in report:
        print(f"{status:<9}  {name}")
    return 0
