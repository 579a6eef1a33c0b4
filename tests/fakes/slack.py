"""A local Slack: `chat.postMessage`, `chat.update`, `chat.postEphemeral`, `conversations.history`,
`views.open` and `auth.test` (JSON `{"ok": ...}`), incoming webhooks (plain `ok`), and the other
direction: interactivity requests as Slack sends them to the app's request URL (a form field
`payload` holding JSON, signed with the app's signing secret: `X-Slack-Signature` over
`v0:<timestamp>:<body>`)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.http import Answer, FakeService, Received

BOT_TOKEN = "xoxb-fake"
SIGNING_SECRET = "made-up-signing-secret"
CHANNEL_ID = "C0JOBS01"
TEAM = {"id": "T0TEAM01", "domain": "example-team"}


class FakeSlack(FakeService):
    webhook_path = "/services/T000/B000/XXXX"

    def __init__(self, scopes: str = "chat:write,channels:history") -> None:
        super().__init__()
        self.scopes = scopes
        self.posted: dict[str, dict[str, Any]] = {}   # ts -> the message as it stands now
        self.ephemeral: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.profiles: dict[str, tuple[str, bool]] = {}   # user id -> (e-mail, is_email_confirmed)
        self._ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.webhook_path}"

    def answer(self, received: Received) -> Answer:
        if received.path == self.webhook_path:
            return Answer(200, "ok")
        if not received.path.startswith("/api/"):
            return Answer(404, {"ok": False, "error": "unknown_method"})
        if received.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return Answer(200, {"ok": False, "error": "invalid_auth"})
        method = received.path.removeprefix("/api/")
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        return handler(_arguments(received)) if handler else Answer(404, {"ok": False, "error": "unknown_method"})

    def _auth_test(self, args: dict[str, Any]) -> Answer:
        return Answer(200, {"ok": True, "team": "Example", "user": "vorhoelle", "team_id": TEAM["id"]},
                      {"x-oauth-scopes": self.scopes})

    def _chat_postMessage(self, args: dict[str, Any]) -> Answer:
        ts = f"1700000000.{next(self._ids):06d}"
        channel = CHANNEL_ID if str(args["channel"]).startswith("#") else args["channel"]
        self.posted[ts] = {"type": "message", "ts": ts, "channel": channel, "text": args.get("text"),
                           "blocks": args.get("blocks") or []}
        return Answer(200, {"ok": True, "channel": channel, "ts": ts})

    def _chat_update(self, args: dict[str, Any]) -> Answer:
        message = self.posted.get(args.get("ts"))
        if message is None or message["channel"] != args.get("channel"):
            return Answer(200, {"ok": False, "error": "message_not_found"})
        message.update(text=args.get("text"), blocks=args.get("blocks") or [])
        return Answer(200, {"ok": True, "channel": message["channel"], "ts": message["ts"]})

    def _chat_postEphemeral(self, args: dict[str, Any]) -> Answer:
        self.ephemeral.append(args)
        return Answer(200, {"ok": True, "message_ts": f"1700000001.{next(self._ids):06d}"})

    def _conversations_history(self, args: dict[str, Any]) -> Answer:
        message = self.posted.get(args.get("latest"))
        found = [message] if message and message["channel"] == args.get("channel") else []
        return Answer(200, {"ok": True, "messages": found, "has_more": False})

    def _users_info(self, args: dict[str, Any]) -> Answer:
        if args.get("user") not in self.profiles:
            return Answer(200, {"ok": False, "error": "user_not_found"})
        email, confirmed = self.profiles[args["user"]]
        return Answer(200, {"ok": True, "user": {"id": args["user"], "is_email_confirmed": confirmed,
                                                 "profile": {"email": email, "real_name": "Made-up Person"}}})

    def _views_open(self, args: dict[str, Any]) -> Answer:
        view = json.loads(args["view"]) if isinstance(args["view"], str) else args["view"]
        opened = {**view, "id": f"V{next(self._ids):08d}", "trigger_id": args.get("trigger_id")}
        self.views.append(opened)
        return Answer(200, {"ok": True, "view": opened})

    def messages(self) -> list[dict]:
        """Every message posted (either way in), as Slack decoded it."""
        return [r.json() for r in self.delivered() if r.path in (self.webhook_path, "/api/chat.postMessage")]

    def said_to(self, user: str) -> list[str]:
        """The ephemeral answers `user` was shown."""
        return [m["text"] for m in self.ephemeral if m.get("user") == user]


def _arguments(received: Received) -> dict[str, Any]:
    if received.headers.get("content-type", "").startswith("application/json"):
        return received.json()
    return {**{k: v[0] for k, v in received.query.items()}, **received.form()}


RATE_LIMITED = Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})


# -- interactivity: what Slack sends to the app -----------------------------------------------


def signed(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with `body`."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)}


def interaction(bot_url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None,
                body: str | None = None) -> httpx.Response:
    """POST one interaction to the app's request URL, signed unless `headers` say otherwise."""
    body = body if body is not None else urlencode({"payload": json.dumps(payload)})
    return httpx.post(f"{bot_url}/slack/actions", content=body, headers=headers or signed(body), timeout=30)


def press(message: dict[str, Any], iid: int, action_id: str, user: str, *, action_ts: str | None = None) -> dict[str, Any]:
    """The `block_actions` payload of pressing `action_id` on match #`iid` in `message`."""
    block = next(b for b in message["blocks"] if b.get("block_id") == f"vorhoelle:{iid}")
    button = next(e for e in block["elements"] if e["action_id"] == action_id)
    return {
        "type": "block_actions", "team": TEAM, "user": {"id": user, "username": user.lower(), "team_id": TEAM["id"]},
        "api_app_id": "A0APP001", "token": "deprecated-verification-token", "trigger_id": f"trigger.{user}.{iid}",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"], "is_ephemeral": False},
        "channel": {"id": message["channel"], "name": "jobs"}, "message": message,
        "response_url": "https://hooks.slack.example/actions/T0TEAM01/1/x",
        "actions": [{"type": "button", "action_id": action_id, "block_id": block["block_id"],
                     "value": button.get("value"), "text": button["text"],
                     "action_ts": action_ts or f"{time.time():.6f}"}],
    }


def submit(view: dict[str, Any], user: str, reason: str) -> dict[str, Any]:
    """The `view_submission` payload of the reason modal, `reason` typed in."""
    return {
        "type": "view_submission", "team": TEAM, "user": {"id": user, "team_id": TEAM["id"]},
        "view": {**view, "state": {"values": {"reason": {"reason_input": {"type": "plain_text_input", "value": reason}}}}},
    }
