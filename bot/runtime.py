"""What a running bot holds: its settings and the clients built from them.

One `Runtime` is made by `vorhoelle serve` (or a test) and reached from a request as
`request.app.state.runtime`; nothing else is global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    gitlab: Any = None       # bot.gitlab_access.GitLabAccess
    queue: Any = None        # bot.queue.ConvergeQueue
    notifier: Any = None     # bot.notify.dispatcher.Dispatcher
    extras: dict[str, Any] = field(default_factory=dict)
