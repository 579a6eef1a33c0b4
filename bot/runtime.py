"""What a running bot holds: its settings and the clients built from them.

One `Runtime` is made by `vorhoelle serve` (or a test) and reached from a request as
`request.app.state.runtime`; nothing else is global.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config.settings import Settings
from bot.seams import GitLab, HintQueue, Notifier


@dataclass
class Runtime:
    settings: Settings
    gitlab: GitLab
    queue: HintQueue | None = None      # None: nothing converges from hints (some tests)
    notifier: Notifier | None = None    # None: nobody is told
    settings_generation: int = 0        # counted up each time settings are applied (bot/config/project_file.py)

    @property
    def hints(self) -> HintQueue:
        """The converge queue; a runtime built without one (some tests) takes no hints."""
        if self.queue is None:
            raise RuntimeError("this runtime has no converge queue")
        return self.queue


def build_runtime(settings: Settings) -> Runtime:
    """Wire what `vorhoelle serve` (or a test) runs: GitLab access, the converge queue, and the
    notification dispatcher."""
    from bot.gitlab_access import GitLabAccess
    from bot.notify import build_dispatcher
    from bot.queue import ConvergeQueue

    runtime = Runtime(settings=settings, gitlab=GitLabAccess.from_settings(settings))
    runtime.queue = ConvergeQueue(
        lambda hint: converge(runtime, hint.iid, event_uuid=hint.event_uuid),
        max_parallel=settings.server.max_parallel_issues,
        spacing=settings.server.converge_spacing_seconds,
        retry_delay=settings.server.converge_retry_seconds,
    )
    runtime.notifier = build_dispatcher(lambda: runtime.settings, runtime.gitlab)
    return runtime


def converge(runtime: Runtime, iid: int, *, event_uuid: str | None = None) -> Any:
    """Converge one issue (bot/converge.py), imported late: it pulls in templates and workflow."""
    from bot.converge import converge_issue

    return converge_issue(runtime, iid, event_uuid=event_uuid)
