"""The control surface's client, for tests and benches (plain HTTP; nothing of the server)."""

from __future__ import annotations

from typing import Any

import httpx

CONTROL_PREFIX = "/-/sandbox/"


class SandboxControl:
    """Sync client of the control surface, for tests and benches.

        control = SandboxControl(sandbox.url, sandbox.root_token)
        control.faults(error_rate=0.3, seed=1)
        control.rate_limits(preset="gitlab.com")
        control.counters()["calls"]["POST /projects/:id/issues/:iid/notes"]

    Every method raises `httpx.HTTPStatusError` when the sandbox refuses.
    """

    def __init__(self, url: str, token: str) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/") + CONTROL_PREFIX,
                                  headers={"PRIVATE-TOKEN": token}, timeout=30)

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (no arguments: faults off); returns them."""
        return self._call("PUT", "faults", settings)

    def rate_limits(self, preset: str | None = None, **limits: Any) -> dict[str, Any]:
        """Set a preset ("gitlab.com", "off") and/or numbers; returns the limits now in force."""
        return self._call("PUT", "rate-limits", {**({"preset": preset} if preset else {}), **limits})

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "counters")

    def reset_counters(self) -> dict[str, Any]:
        return self._call("DELETE", "counters")

    def pause_hook(self, hook_id: int) -> dict[str, Any]:
        return self._call("POST", f"hooks/{hook_id}/pause")

    def unpause_hook(self, hook_id: int) -> dict[str, Any]:
        return self._call("POST", f"hooks/{hook_id}/unpause")

    def shift_clock(self, seconds: float) -> dict[str, Any]:
        """Stamp what is written from now on `seconds` off the real time (0: back to it)."""
        return self._call("PUT", "clock", {"offset_seconds": seconds})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()
