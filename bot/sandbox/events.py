"""Hand webhook events to the deliverer, for every hook of the project that subscribed.

Routes call these after a change is applied; `DeferDeliveries` (bot/sandbox/delivery.py) holds
the events until the response has been sent and tags them with the request's
`X-Gitlab-Event-UUID`, so the bot's own writes count as recursive.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.sandbox import payloads
from bot.sandbox.context import Sandbox
from bot.sandbox.store import Award, Issue, Note, Project, User

log = logging.getLogger(__name__)


def deliver(sandbox: Sandbox, project: Project, header: str, payload: dict[str, Any]) -> None:
    if sandbox.deliverer is None:
        return
    for hook in sandbox.store.all("hooks"):
        if hook.project_id == project.id and hook.wants(header):
            log.debug("hook %s: queueing %s", hook.id, header)
            sandbox.deliverer.enqueue(hook, header, payload)


def issue_event(
    sandbox: Sandbox,
    project: Project,
    issue: Issue,
    actor: User,
    action: str,
    changes: dict[str, Any],
) -> None:
    header = "Confidential Issue Hook" if issue.confidential else "Issue Hook"
    payload = payloads.issue_hook(sandbox, project, issue, actor, action, changes)
    deliver(sandbox, project, header, payload)


def note_event(
    sandbox: Sandbox, project: Project, issue: Issue, note: Note, actor: User, action: str
) -> None:
    header = "Confidential Note Hook" if note.internal or issue.confidential else "Note Hook"
    deliver(sandbox, project, header, payloads.note_hook(sandbox, project, issue, note, actor, action))


def emoji_event(
    sandbox: Sandbox,
    project: Project,
    issue: Issue,
    award: Award,
    actor: User,
    action: str,
    note: Note | None = None,
) -> None:
    payload = payloads.emoji_hook(sandbox, project, issue, award, actor, action, note)
    deliver(sandbox, project, "Emoji Hook", payload)
