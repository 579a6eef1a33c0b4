"""What a running bot holds: its settings and the clients built from them.

One `Runtime` is made by `vorhoelle serve` (or a test) and reached from a request as
`request.app.state.runtime`; nothing else is global.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from bot.config.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    gitlab: Any = None       # bot.gitlab_access.GitLabAccess
    queue: Any = None        # bot.queue.ConvergeQueue
    notifier: Any = None     # bot.notify.dispatcher.Dispatcher
    extras: dict[str, Any] = field(default_factory=dict)


def build_runtime(settings: Settings) -> Runtime:
    """Wire what `vorhoelle serve` (or a test) runs: GitLab access, the converge queue, and the
    notification dispatcher when bot/notify provides one."""
    from bot.gitlab_access import GitLabAccess
    from bot.queue import ConvergeQueue

    runtime = Runtime(settings=settings, gitlab=GitLabAccess.from_settings(settings))
    runtime.queue = ConvergeQueue(
        lambda hint: converge(runtime, hint.iid, event_uuid=hint.event_uuid),
        max_parallel=settings.server.max_parallel_issues,
        spacing=settings.server.converge_spacing_seconds,
        retry_delay=settings.server.converge_retry_seconds,
    )
    build_dispatcher = getattr(importlib.import_module("bot.notify"), "build_dispatcher", None)
    if build_dispatcher is not None:
        runtime.notifier = build_dispatcher(settings, runtime.gitlab)
    return runtime


def converge(runtime: Runtime, iid: int, *, event_uuid: str | None = None) -> Any:
    """Converge one issue (bot/converge.py), imported late: it pulls in templates and workflow."""
    from bot.converge import converge_issue

    return converge_issue(runtime, iid, event_uuid=event_uuid)
