"""The labels the bot relies on, defined once: the marker label, one label per workflow state and
the score labels, each with its colour and description from the settings.

Staging creates the ones that are missing (`ensure_labels`) before it writes an issue;
`vorhoelle labels sync` (`sync_labels`) also brings colour and description of existing ones in
line. Both read `wanted_labels`, so a sync right after staging finds nothing to change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.config.settings import Settings
from bot.gitlab_access import GitLabError
from bot.seams import GitLab

log = logging.getLogger(__name__)

MARKER_LABEL_COLOR = "#6699CC"
MARKER_LABEL_DESCRIPTION = "A job match staged by Vorhölle"


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str

    def differs_from(self, existing: dict[str, Any]) -> bool:
        """GitLab keeps the colour as given; compare it without regard to case."""
        return ((existing.get("color") or "").lower() != self.color.lower()
                or (existing.get("description") or "") != self.description)


def wanted_labels(settings: Settings) -> list[LabelSpec]:
    """Name, colour and description of every label the settings call for."""
    workflow = settings.workflow
    labels = [LabelSpec(workflow.marker_label, MARKER_LABEL_COLOR, MARKER_LABEL_DESCRIPTION)]
    labels += [LabelSpec(state.label, state.color, state.description) for state in workflow.states.values()]
    labels += [LabelSpec(rule.label, rule.color, f"Match score of {rule.min}% or more")
               for rule in settings.staging.score_labels]
    return labels


def ensure_labels(settings: Settings, gitlab: GitLab) -> None:
    """Create the wanted labels that are missing; leave existing ones as they are."""
    existing = {label["name"] for label in gitlab.labels()}
    for label in wanted_labels(settings):
        if label.name not in existing:
            try:
                gitlab.create_label(label.name, label.color, label.description)
            except GitLabError as error:
                if error.status != 409:
                    raise
                continue   # another instance of the bot created it a moment ago
            log.info("created label %s", label.name, extra={"event": "label_created", "label": label.name})


def sync_labels(gitlab: GitLab, settings: Settings) -> list[tuple[str, str]]:
    """Bring the project's labels in line with the settings; returns (name, what happened):
    created, updated or unchanged."""
    existing = {label["name"]: label for label in gitlab.labels()}
    report = []
    for label in wanted_labels(settings):
        have = existing.get(label.name)
        if have is None:
            gitlab.create_label(label.name, label.color, label.description)
            report.append((label.name, "created"))
        elif label.differs_from(have):
            gitlab.update_label(label.name, color=label.color, description=label.description)
            report.append((label.name, "updated"))
        else:
            report.append((label.name, "unchanged"))
    return report
