"""What every route reaches through `request.app.state.sandbox`: the store, the URLs, the hooks.

One `Sandbox` per app; nothing in the sandbox is global, so several can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from bot.sandbox.store import Store

GITLAB_VERSION = "17.11.1-ee"


@dataclass
class Sandbox:
    store: Store
    base_url: str
    deliverer: Any = None  # bot.sandbox.delivery.HookDeliverer
    control: Any = None  # bot.sandbox.control.state.ControlState
    extras: dict[str, Any] = field(default_factory=dict)

    def web_url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox
