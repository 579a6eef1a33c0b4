"""Slack for the demo: the Web API methods the bot calls, served from the demo's own process, and
the other direction, a person pressing a button (an interactivity request signed with the app's
signing secret, as Slack signs it). No Slack account is needed; nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

TOKEN = "xoxb-demo"
CHANNEL = "C0DEMO001"
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")   # Slack shows each reader their own time; the demo, the fallback


class DemoSlack:
    """Keeps the messages the bot posts (by `ts`) and applies its updates to them."""

    def __init__(self) -> None:
        self.signing_secret = secrets.token_hex(16)
        self.messages: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                body = json.dumps(slack.call(urlsplit(self.path).path.rsplit("/", 1)[-1], args)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="demo-slack", daemon=True).start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        blocks = args.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
        with self._lock:
            if method == "chat.postMessage":
                ts = f"{time.time():.6f}"
                self.messages[ts] = {"ts": ts, "channel": CHANNEL, "text": args.get("text"), "blocks": blocks}
                return {"ok": True, "channel": CHANNEL, "ts": ts}
            if method == "chat.update" and args.get("ts") in self.messages:
                self.messages[args["ts"]].update(text=args.get("text"), blocks=blocks)
                return {"ok": True, "channel": CHANNEL, "ts": args["ts"]}
            if method == "conversations.history":
                found = self.messages.get(args.get("latest", ""))
                return {"ok": True, "messages": [found] if found else []}
            return {"ok": method in ("chat.postEphemeral", "auth.test")}

    def env(self, slack_user: str, username: str) -> dict[str, str]:
        """The bot's Slack settings: its app here, `slack_user` mapped to GitLab's `username`."""
        return {
            "VORHOELLE_NOTIFY__CHANNELS__SLACK__ENABLED": "true",
            "VORHOELLE_NOTIFY__CHANNELS__SLACK__CHANNEL": CHANNEL,
            "VORHOELLE_NOTIFY__CHANNELS__SLACK__API_URL": self.api_url,
            "VORHOELLE_SLACK_TOKEN": TOKEN,
            "VORHOELLE_SLACK_SIGNING_SECRET": self.signing_secret,
            "VORHOELLE_REVIEW__SLACK_USERS": json.dumps({slack_user: username}),
        }

    def outcome(self, iid: int) -> str | None:
        """What Slack shows where match #iid's buttons were, once the bot decided."""
        shown = [b for _, b in self._blocks(iid) if b["type"] == "context"]
        return _DATE.sub(r"\1", shown[-1]["elements"][0]["text"]) if shown else None

    def buttons(self, iid: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The latest message with match #iid's buttons, and that block."""
        found = [(m, b) for m, b in self._blocks(iid) if b["type"] == "actions"]
        return found[-1] if found else None

    def _blocks(self, iid: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        block_id = f"vorhoelle:{iid}"
        with self._lock:
            return [(m, b) for m in self.messages.values() for b in m["blocks"] if b.get("block_id") == block_id]

    def press(self, bot_url: str, iid: int, action_id: str, slack_user: str) -> tuple[httpx.Response, str]:
        """Press a button as Slack reports it; returns the answer and the press's `action_ts`."""
        found = self.buttons(iid)
        if found is None:
            raise LookupError(f"no Slack message carries buttons for #{iid}")
        message, block = found
        button = next(e for e in block["elements"] if e["action_id"] == action_id)
        action_ts = f"{time.time():.6f}"
        payload = {"type": "block_actions", "user": {"id": slack_user}, "team": {"domain": "demo"},
                   "container": {"channel_id": CHANNEL, "message_ts": message["ts"]}, "message": message,
                   "trigger_id": "demo", "actions": [{"action_id": action_id, "value": button["value"],
                                                      "action_ts": action_ts}]}
        body = urlencode({"payload": json.dumps(payload)})
        stamp = str(int(time.time()))
        from slack_sdk.signature import SignatureVerifier

        signature = SignatureVerifier(self.signing_secret).generate_signature(timestamp=stamp, body=body)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": signature or ""}
        return httpx.post(f"{bot_url}/slack/actions", content=body, headers=headers, timeout=30), action_ts

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
