"""A local Slack: `chat.postMessage` (JSON `{"ok": ...}`) and incoming webhooks (plain `ok`)."""

from __future__ import annotations

from tests.fakes.http import Answer, FakeService, Received


class FakeSlack(FakeService):
    webhook_path = "/services/T000/B000/XXXX"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.webhook_path}"

    def answer(self, received: Received) -> Answer:
        if received.path == self.webhook_path:
            return Answer(200, "ok")
        if received.path == "/api/chat.postMessage":
            if received.headers.get("authorization") != "Bearer xoxb-fake":
                return Answer(200, {"ok": False, "error": "invalid_auth"})
            payload = received.json()
            return Answer(200, {"ok": True, "channel": payload["channel"], "ts": f"1700000000.{len(self.requests):06d}"})
        return Answer(404, {"ok": False, "error": "unknown_method"})

    def messages(self) -> list[dict]:
        """Every message posted (either way in), as Slack decoded it."""
        return [r.json() for r in self.delivered()]


RATE_LIMITED = Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
