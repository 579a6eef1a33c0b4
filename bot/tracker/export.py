"""Every application read back from GitLab: the job-match issues, their label events and notes.

Two calls per issue on top of the paginated issue list; nothing is cached, so each report says
what GitLab says now.
"""

from __future__ import annotations

import logging
from typing import Callable

from bot.config.settings import WorkflowSettings
from bot.seams import GitLab
from bot.snapshot import build_snapshot
from bot.tracker.records import Application, build_application
from bot.tracker.table import Filters

log = logging.getLogger(__name__)


def read_applications(
    gitlab: GitLab,
    workflow: WorkflowSettings,
    filters: Filters = Filters(),  # noqa: B008
    progress: Callable[[int], None] = lambda count: None,
) -> list[Application]:
    """The applications `filters` keep, oldest first; `progress` hears how many were read."""
    bot_user = gitlab.bot_user
    kept: list[Application] = []
    issues = gitlab.iter_issues(labels=[workflow.marker_label], state="all", order_by="created_at")
    for count, issue in enumerate(issues, start=1):
        iid = issue["iid"]
        snapshot = build_snapshot(issue, gitlab.label_events(iid), gitlab.notes(iid), [], bot_user)
        app = build_application(snapshot, workflow)
        if filters.keep(app):
            kept.append(app)
        progress(count)
    log.info("read %d applications from GitLab", len(kept), extra={"event": "export_read", "count": len(kept)})
    return sorted(kept, key=lambda a: a.staged_at)
