"""POST /webhook over real HTTP, against the bot's app under uvicorn, backed by the sandbox GitLab."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import http.client
import json
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.gitlab_access import GitLabAccess
from bot.runtime import build_runtime
from bot.sandbox.control import SandboxControl
from bot.web import webhook as receiver_module
from bot.web.receipts import Receipts
from bot.handlers.router import router
from tests.support.bot import TEST_RETRIES
from tests.support.botserver import WEBHOOK_SECRET as SECRET, ready as ready_details, running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.webhook.conftest import LIMIT

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab_payloads"
EVENT_OF_KIND = {"issue": "Issue Hook", "note": "Note Hook", "emoji": "Emoji Hook"}


def headers(event: str = "Issue Hook", token: str | None = SECRET, key: str | None = None) -> dict[str, str]:
    sent = {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.11.1-ee",
        "X-Gitlab-Event": event,
        "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "Idempotency-Key": key or str(uuid.uuid4()),
    }
    if token is not None:
        sent["X-Gitlab-Token"] = token
    return sent


def post(bot, body: bytes | dict, **header_args) -> httpx.Response:
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    return httpx.post(bot.webhook_url, content=content, headers=headers(**header_args), timeout=10)


def raw_post(url: str, head: dict[str, str], chunks: Iterable[bytes] = ()) -> tuple[int, dict]:
    """Send a request by hand (to lie about Content-Length or stream without one) and read the
    answer, which may come before the body is sent."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in head.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server answered and stopped reading, as it should
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def test_missing_or_wrong_token_is_refused_with_401(bot):
    missing = post(bot, {"object_kind": "issue"}, token=None)
    wrong = post(bot, {"object_kind": "issue"}, token="not-the-secret")
    assert (missing.status_code, missing.json()["error"]) == (401, "missing X-Gitlab-Token")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "wrong X-Gitlab-Token")


def test_a_declared_huge_body_is_refused_before_it_is_sent(bot):
    head = {**headers(), "Content-Length": str(1024**3)}
    status, body = raw_post(bot.webhook_url, head)  # no body at all: the answer must not wait for it
    assert status == 413
    assert body == {"error": "body too large", "detail": {"limit_bytes": LIMIT, "content_length": 1024**3}}


def test_a_streamed_body_is_refused_once_it_passes_the_limit(bot):
    piece = b"x" * 4096
    chunks = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(2000))  # 8 MB, chunked
    status, body = raw_post(bot.webhook_url, {**headers(), "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413 and body["detail"] == {"limit_bytes": LIMIT}


def test_a_body_streamed_in_pieces_is_read_whole(bot):
    payload = json.dumps({"object_kind": "push", "project": {"id": 1}, "padding": "x" * 20_000}).encode()
    pieces = [payload[i:i + 4096] for i in range(0, len(payload), 4096)]
    chunks = [f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces] + [b"0\r\n\r\n"]
    status, body = raw_post(bot.webhook_url, {**headers("Push Hook"), "Transfer-Encoding": "chunked"}, chunks)
    assert (status, body) == (202, {"status": "ignored", "reason": "a push changes no job match"})


def receiving(*messages: dict) -> Callable[[], Awaitable[dict]]:
    """An ASGI `receive` that hands out `messages` in order."""
    given = iter(messages)

    async def receive() -> dict:
        return next(given)

    return receive


def test_the_body_is_joined_from_every_message_until_the_last():
    receive = receiving({"type": "http.request", "body": b'{"a": ', "more_body": True},
                        {"type": "http.request", "body": b"", "more_body": True},
                        {"type": "http.request", "body": b"1}", "more_body": False})
    assert asyncio.run(receiver_module.read_messages(receive, None, LIMIT)) == b'{"a": 1}'


def test_a_client_gone_before_the_last_message_is_a_400():
    receive = receiving({"type": "http.request", "body": b'{"a": ', "more_body": True}, {"type": "http.disconnect"})
    with pytest.raises(receiver_module.Refused) as refused:
        asyncio.run(receiver_module.read_messages(receive, b"8", LIMIT))
    assert (refused.value.status, refused.value.error) == (400, "the client went away before the whole body arrived")


def test_a_content_length_shorter_than_the_body_gets_no_further_than_its_length(bot):
    payload = json.dumps({"object_kind": "issue", "padding": "x" * 100_000}).encode()
    status, body = raw_post(bot.webhook_url, {**headers(), "Content-Length": "20"}, [payload])
    assert status == 400 and body["error"] == "body is not valid JSON"


@pytest.mark.parametrize("body, error", [
    (b"{not json", "body is not valid JSON"),
    (b"\xff\xfe", "body is not valid JSON"),
    (b"[1, 2]", "body must be a JSON object"),
    (b'"issue"', "body must be a JSON object"),
])
def test_malformed_or_non_object_json_is_400(bot, body, error):
    answer = post(bot, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == error and answer.json()["detail"]


@pytest.mark.parametrize("event, reason", [
    ("Push Hook", "a push changes no job match"),
    ("Pipeline Hook", "the bot does not act on 'Pipeline Hook' events"),
    ("", "the bot does not act on 'unnamed' events"),
])
def test_events_the_bot_does_not_act_on_get_202_with_a_reason(bot, event, reason):
    answer = post(bot, {"object_kind": "push", "project": {"id": 1}}, event=event)
    assert answer.status_code == 202
    assert answer.json() == {"status": "ignored", "reason": reason}


def aimed_at(payload: dict, project_id: int, iid: int) -> dict:
    """GitLab's example payload, moved into the world's project and onto its issue."""
    payload = copy.deepcopy(payload)
    payload["project"]["id"] = project_id
    for holder in (payload, payload.get("object_attributes") or {}, payload.get("issue") or {}):
        if "project_id" in holder:
            holder["project_id"] = project_id
    target = payload["issue"] if "issue" in payload else payload["object_attributes"]
    target["iid"] = iid
    return payload


def event_of(payload: dict) -> str:
    event = EVENT_OF_KIND[payload["object_kind"]]
    confidential = payload.get("event_type") == "confidential_note" or (
        payload.get("object_attributes") or {}).get("confidential") is True
    return f"Confidential {event}" if confidential else event


def test_every_real_payload_is_answered_2xx_and_converges_without_error(bot, world, caplog):
    issue = world.project("bot").issues.create(
        {"title": "Backend Engineer at Example GmbH", "labels": "job-match,job-match/pending"})
    files = sorted(p for p in PAYLOADS.glob("*.json") if p.name.startswith(("issue_", "note_", "emoji_")))
    assert len(files) >= 9
    caplog.set_level(logging.INFO)
    answers = {}
    for path in files:
        payload = aimed_at(json.loads(path.read_text()), world.project_id, issue.iid)
        answer = post(bot, payload, event=event_of(payload))
        answers[path.stem] = (answer.status_code, answer.json()["status"])
    assert all(status == 202 for status, _ in answers.values()), answers
    assert answers["note_issue_comment_DERIVED"][1] == "queued"        # /reject from a reviewer
    assert answers["issue_update_labels_DERIVED"][1] == "queued"        # a label change
    assert answers["issue_doc_example"][1] == "ignored"                 # no job-match label
    wait_until(lambda: bot.queue.idle and bot.queue.stats["converged"] >= 2, message="converges to finish")
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(("bot", "handlers"))]
    assert problems == []
    assert bot.queue.stats["failed"] == 0


def test_a_redelivery_with_the_same_idempotency_key_is_dropped(bot, world):
    issue = world.project("bot").issues.create({"title": "Data Engineer", "labels": "job-match,job-match/pending"})
    payload = aimed_at(json.loads((PAYLOADS / "issue_update_labels_DERIVED.json").read_text()),
                       world.project_id, issue.iid)
    payload["user"] = {"id": world.users["reviewer"]["id"], "username": world.users["reviewer"]["username"]}
    first = post(bot, payload, key="same-key")
    again = post(bot, payload, key="same-key")
    other = post(bot, payload, key="another-key")
    assert first.json()["status"] == "queued" and other.json()["status"] == "queued"
    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    assert bot.queue.stats["submitted"] == 2


def sign(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_signed_deliveries_are_checked_when_a_signing_key_is_set(world):
    key = b"made-up signing key for tests"
    settings = served_bot_settings(world, webhook_signing_key="whsec_" + base64.b64encode(key).decode())
    body = json.dumps({"object_kind": "push"}).encode()
    with running_bot(settings) as bot:
        def deliver(signature: str | None) -> httpx.Response:
            extra = {"webhook-id": "msg_1", "webhook-timestamp": "1736503200"}
            if signature is not None:
                extra["webhook-signature"] = signature
            return httpx.post(bot.webhook_url, content=body, headers={**headers("Push Hook"), **extra})

        good = deliver(f"v1,bm90LXRoaXMtb25l {sign(key, 'msg_1', '1736503200', body)}")
        forged = deliver(sign(b"another key", "msg_1", "1736503200", body))
        unsigned = deliver(None)
    assert good.status_code == 202
    assert (forged.status_code, forged.json()["error"]) == (401, "webhook-signature does not match")
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "missing webhook signature")


def test_deliveries_get_503_while_the_bot_drains(bot):
    bot.app.state.draining = True
    answer = post(bot, {"object_kind": "push"}, event="Push Hook")
    assert answer.status_code == 503 and answer.json()["error"] == "shutting down"


def test_health_says_live_and_ready_with_the_catch_up_state(bot, world):
    assert httpx.get(f"{bot.url}/health/live").json() == {"status": "live"}
    assert httpx.get(f"{bot.url}/health").json() == {"status": "live"}  # the path many probes default to
    ready = ready_details(bot.url)
    assert ready.status_code == 200
    assert ready.json()["project"] == world.path and ready.json()["status"] == "ready"
    assert set(ready.json()["catch_up"]) == {"passes", "window_start", "last_success", "last_error", "status_issue",
                                           "full_reconcile"}


def test_ready_names_the_reason_when_the_token_is_bad(world):
    settings = served_bot_settings(world).model_copy(update={"gitlab_token": SecretStr("made-up-and-invalid")})
    with running_bot(settings) as bot:
        ready = ready_details(bot.url)
    assert ready.status_code == 503
    assert ready.json()["error"] == "the GitLab token is not valid (expired or revoked?)"


def test_unknown_paths_answer_json(bot):
    answer = httpx.get(f"{bot.url}/nowhere")
    assert answer.status_code == 404 and answer.json()["error"] == "Not Found"


def test_a_handler_that_fails_is_logged_and_answered_2xx(bot, monkeypatch, caplog):
    def broken(payload, context):
        raise KeyError("a bug")

    monkeypatch.setitem(router._handlers, "Push Hook", broken)
    answer = post(bot, {"object_kind": "push"}, event="Push Hook")
    assert answer.status_code == 202 and answer.json()["status"] == "ignored"
    assert any(r.levelno == logging.ERROR and "the Push Hook handler failed" in r.getMessage() for r in caplog.records)


def test_a_bug_in_the_receiver_itself_still_answers_json(bot, monkeypatch, caplog):
    """The receiver runs before Starlette's error middleware and router (bot/web/app.py
    `BotApp`): it answers its own bug as the middleware would, a 500 in JSON, and logs it."""
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(receiver_module, "decide", broken)
    answer = post(bot, {"object_kind": "issue"})
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error", "detail": "RuntimeError"}
    failed = [r for r in caplog.records if r.getMessage() == "the receiver failed on a delivery"]
    assert len(failed) == 1 and failed[0].exc_info[1].args == ("a bug",)
    assert bot.receiver.stats["error"] == 1


def test_other_methods_on_the_webhook_path_get_the_routers_answer(bot):
    answer = httpx.get(bot.webhook_url, timeout=10)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json() == {"error": "Method Not Allowed", "detail": None}


def test_a_bug_in_a_route_still_answers_json(bot, monkeypatch):
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.runtime.gitlab, "ping", broken)
    answer = httpx.get(f"{bot.url}/health/ready")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error", "detail": "RuntimeError"}


def test_ready_is_503_when_gitlab_fails_right_after_the_ping(world, sandbox):
    """GitLab is down while the bot starts, so it has not read its project yet. Seed 38 then lets
    the ping's project read through (rate 0.5) and fails the next four: every attempt of the
    project read that follows."""
    settings = served_bot_settings(world)
    runtime = build_runtime(settings)
    runtime.gitlab = GitLabAccess.from_settings(settings, **TEST_RETRIES)
    project = f"/api/v4/projects/{world.project_id}"
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.faults(error_rate=1.0, statuses={"502": 1}, paths=[project])
        try:
            with running_bot(settings, runtime=runtime) as bot:
                control.faults(error_rate=0.5, statuses={"502": 1}, paths=[project], seed=38)
                ready = ready_details(bot.url, timeout=30)
        finally:
            control.faults()
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "error": "GitLab answered 502", "detail": "502 Bad Gateway"}


def test_the_token_is_taken_out_of_the_headers_the_receipts_keep():
    scope = {"headers": [(b"x-gitlab-token", b"made-up-secret"), (b"x-gitlab-event", b"Issue Hook"),
                         (b"idempotency-key", b"k-1"), (b"x-gitlab-token", b"a second one")]}
    delivery = receiver_module.Delivery.of(scope)
    assert delivery.token == b"made-up-secret"   # the first of a repeated header, as Headers.get reads it
    assert b"x-gitlab-token" not in delivery.headers
    assert (delivery.event, delivery.key, delivery.trace) == ("Issue Hook", "k-1", None)
    receipts = Receipts()
    receipts.add(delivery.headers, 202, "queued")
    [receipt] = receipts.newest_first()
    assert (receipt.event, receipt.idempotency_key, receipt.token) == ("Issue Hook", "k-1", "matched")
