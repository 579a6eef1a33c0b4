"""POST /slack/actions: the Slack app's interactivity request URL (buttons and the reason modal).

Every request is checked against the app's signing secret and Slack's five-minute timestamp
window (slack-sdk's SignatureVerifier) before anything else is read; a bad one is 401 and logged.
A good one is acknowledged at once (Slack wants an answer within 3 seconds) and carried out after
the answer: Approve and Send converge straight away, Reject first opens a modal for the reason
(`views.open`), whose submission converges. The outcome replaces the match's buttons in the
message for everyone (`chat.update`); a refusal, a second press or a match someone moved on
meanwhile is told to the presser alone (ephemeral), and nothing changes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.actions.http import Rejected, error_response as _error, form_body
from bot.actions.decide import ACTIONS, Asked, Decided, decide
from bot.actions.slack_api import SlackApi
from bot.actions.slack_blocks import REJECT_CALLBACK, decided_in_place, pressed, reason_of, reject_modal
from bot.gitlab_access import GitLabError
from bot.render import render

log = logging.getLogger(__name__)

_CHANNEL, _TS, _DOMAIN = re.compile(r"^[CDG][A-Z0-9]{2,30}$"), re.compile(r"^\d{1,12}\.\d{1,9}$"), re.compile(r"^[a-z0-9-]{1,64}$")
_VIEW_ID = re.compile(r"^V[A-Z0-9]{2,30}$")


def verified(secret: str, body: bytes, headers: Any) -> str | None:
    """None when Slack signed `body` within the last five minutes; otherwise why not."""
    from slack_sdk.signature import SignatureVerifier

    timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "no X-Slack-Signature or X-Slack-Request-Timestamp"
    verifier = SignatureVerifier(secret)
    try:
        stale = abs(verifier.clock.now() - int(timestamp)) > 300
    except ValueError:
        return "the timestamp is not a number"
    if stale:
        return "the timestamp is outside Slack's five-minute window (a replay, or a wrong clock)"
    return None if verifier.is_valid(body, timestamp, signature) else "the signature does not match the signing secret"


def permalink(payload: dict[str, Any], channel: str, ts: str) -> str | None:
    """The message's address in the workspace, for the GitLab history; only from parts that look right."""
    domain = str((payload.get("team") or {}).get("domain") or "")
    if not (_DOMAIN.match(domain) and _CHANNEL.match(channel) and _TS.match(ts)):
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def gitlab_username(runtime: Any, api: SlackApi, slack_user: str) -> str | None:
    """The GitLab user a Slack user acts as: the operator's mapping, or, switched on, the one GitLab
    user whose public e-mail is the Slack profile's confirmed e-mail."""
    review = runtime.settings.review
    mapped = review.slack_users.get(slack_user)
    if mapped is not None or not review.slack_match_email:
        return mapped
    email = api.confirmed_email(slack_user)
    user = runtime.gitlab.user_by_public_email(email) if email else None
    return str(user["username"]) if user else None


def _acting_as(runtime: Any, api: SlackApi, channel: str, user: str, iid: int, action: str) -> str | None:
    """The presser's GitLab username; None after telling them why there is none."""
    try:
        username = gitlab_username(runtime, api, user)
    except GitLabError as error:
        log.warning("Slack user %s: GitLab user not found: %s", user, error)
        api.tell(channel, user, _answer(Decided("gitlab_failed", iid, action), user))
        return None
    if username is None:
        log.warning("Slack user %s asked to %s #%s but is not a known GitLab user; nothing done", user, action, iid)
        api.tell(channel, user, _answer(Decided("unknown_user", iid, action), user))
    return username


def _answer(decided: Decided, sender: str) -> str:
    return render("actions/answer.slack.j2", d=decided, sender=sender).strip()


def _finish(runtime: Any, api: SlackApi, asked: Asked, channel: str, ts: str, user: str,
            blocks: list[dict[str, Any]] | None = None) -> None:
    """Converge, then show the outcome: in place for everyone, or to the presser alone. The
    message is read afresh first, so that two decisions in one digest do not undo each other."""
    decided = decide(runtime, asked)
    if decided.result != "applied":
        api.tell(channel, user, _answer(decided, user))
        return
    message = api.message(channel, ts)
    blocks = message.get("blocks") if message else blocks
    if blocks is None:
        log.warning("Slack message %s in %s not found; its buttons stay until the next message", ts, channel)
        return
    now = datetime.now(timezone.utc)
    text = render("actions/decided.slack.j2", d=decided, reason=asked.reason,
                  at_unix=int(now.timestamp()), at_text=now.strftime("%H:%M UTC")).strip()
    api.update(channel, ts, f"#{asked.iid}: {decided.state}", decided_in_place(blocks, asked.iid, text))


def _on_button(runtime: Any, api: SlackApi, payload: dict[str, Any]) -> Callable[[], None] | None:
    action = (payload.get("actions") or [{}])[0]
    action_id, container = action.get("action_id"), payload.get("container") or {}
    where = pressed(str(action.get("value") or ""))
    user, channel, ts = str((payload.get("user") or {}).get("id")), container.get("channel_id"), container.get("message_ts")
    if action_id not in ACTIONS or where is None or not (channel and ts):
        return None  # "Open in GitLab" (a link), or nothing the bot offered
    iid, state = where
    asked_at = str(action.get("action_ts") or "")
    blocks = (payload.get("message") or {}).get("blocks")

    def work() -> None:
        username = _acting_as(runtime, api, channel, user, iid, action_id)
        if username is None:
            return
        if action_id == "reject":
            meta = {"iid": iid, "from": state, "channel": channel, "ts": ts,
                    "team": (payload.get("team") or {}).get("domain")}
            api.open_view(str(payload.get("trigger_id")), reject_modal(iid, meta))
        else:
            asked = Asked("slack", asked_at, iid, action_id, username, link=permalink(payload, channel, ts), expects=state)
            _finish(runtime, api, asked, channel, ts, user, blocks)
    return work


def _on_reason(runtime: Any, api: SlackApi, payload: dict[str, Any]) -> Callable[[], None] | None:
    view = payload.get("view") or {}
    if view.get("callback_id") != REJECT_CALLBACK or not _VIEW_ID.match(str(view.get("id"))):
        return None
    try:
        meta = json.loads(view.get("private_metadata") or "")
        iid, state, channel, ts = int(meta["iid"]), str(meta["from"]), str(meta["channel"]), str(meta["ts"])
    except (ValueError, KeyError, TypeError):
        return None
    user = str((payload.get("user") or {}).get("id"))
    link = permalink({"team": {"domain": meta.get("team")}}, channel, ts)

    def work() -> None:
        username = _acting_as(runtime, api, channel, user, iid, "reject")
        if username is None:
            return
        asked = Asked("slack", f"view.{view['id']}", iid, "reject", username, reason_of(view), link, state)
        _finish(runtime, api, asked, channel, ts, user)
    return work


HANDLERS = {"block_actions": _on_button, "view_submission": _on_reason}


async def slack_actions(request: Request) -> Response:
    """Verify, acknowledge, then decide (after the answer)."""
    runtime = request.app.state.runtime
    slack = runtime.settings.notify.channels.slack
    if slack.signing_secret is None or slack.bot_token is None:
        return _error(404, "Slack interactivity is off",
                      "set notify.channels.slack.signing_secret (VORHOELLE_SLACK_SIGNING_SECRET) and bot_token")
    try:
        body = await form_body(request)
    except Rejected as rejected:
        return rejected.response
    problem = verified(slack.signing_secret.get_secret_value(), body, request.headers)
    if problem is not None:
        log.warning("Slack request refused (401): %s", problem, extra={"event": "slack_refused"})
        return _error(401, "invalid Slack signature", problem)
    if retry := request.headers.get("x-slack-retry-num"):
        # Harmless: the press's own id is its source, which the history records once.
        log.info("Slack retry %s (%s)", retry, request.headers.get("x-slack-retry-reason", "no reason given"))
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        handler = HANDLERS.get(payload.get("type"))
        work = handler(runtime, SlackApi(slack), payload) if handler else None
    except (UnicodeDecodeError, KeyError, IndexError, ValueError, AttributeError, TypeError):
        return _error(400, "not a Slack interaction", "expected a form field `payload` holding Slack's JSON")
    return Response(status_code=200, background=BackgroundTask(work) if work else None)


def routes() -> list[BaseRoute]:
    return [Route("/slack/actions", slack_actions, methods=["POST"])]
