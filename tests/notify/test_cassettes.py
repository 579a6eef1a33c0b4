"""One recorded exchange per SDK (slack_sdk, twilio, Gmail through googleapiclient/httplib2),
replayed with `record_mode="none"` and no server at all: a change in what the bot sends — the
Block Kit body, the Twilio form, the MIME message — no longer matches its cassette and fails here.

The cassettes were recorded against the local fakes (tests/fakes/) with

    VORHOELLE_RECORD_CASSETTES=1 .venv/bin/pytest -q tests/notify/test_cassettes.py

Requests are matched on method, path, query and body (not on host and port: the fakes ran on a
free port); authorization headers are never written down.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs

import pytest
import vcr
from google.oauth2.credentials import Credentials

from bot.notify.channel import ChannelError
from bot.notify.email_gmail import Gmail
from bot.notify.mail import Email
from bot.notify.slack import Slack
from bot.notify.whatsapp import WhatsApp
from bot.config.settings import EmailChannel, SlackChannel, WhatsAppChannel
from tests.fakes.gmail import TOKEN, FakeGmail
from tests.fakes.slack import FakeSlack
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.notify.items import summary

CASSETTES = Path(__file__).parent / "cassettes"
RECORDING = os.environ.get("VORHOELLE_RECORD_CASSETTES") == "1"
NOWHERE = "http://127.0.0.1:9"   # nothing listens: a replay that reaches the network fails


def form(request: Any) -> dict[str, list[str]]:
    return parse_qs(request.body.decode())


def mime(request: Any) -> dict[str, str]:
    """What a Gmail send carries, without the parts that change every time (ids, dates, boundaries)."""
    raw = json.loads(request.body)["raw"]
    mail = email.message_from_bytes(base64.urlsafe_b64decode(raw), policy=email.policy.default)
    return {
        "from": mail["From"], "to": mail["To"], "subject": mail["Subject"],
        "text": mail.get_body(("plain",)).get_content(), "html": mail.get_body(("html",)).get_content(),
    }


def same_body(decode: Callable[[Any], Any]) -> Callable[[Any, Any], None]:
    def matcher(sent: Any, recorded: Any) -> None:
        assert decode(sent) == decode(recorded), "the request body differs from the recorded one"

    return matcher


def cassette_player(name: str, decode: Callable[[Any], Any]) -> vcr.VCR:
    player = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "query", "decoded_body"],
        filter_headers=["authorization"],
        decode_compressed_response=True,
    )
    player.register_matcher("decoded_body", same_body(decode))
    return player


@contextmanager
def serving(fake: Any) -> Iterator[str]:
    """The fake's URL while recording; nowhere at all while replaying."""
    if not RECORDING:
        yield NOWHERE
        return
    with fake:
        yield fake.url


def play(name: str, fake: Any, decode: Callable[[Any], Any], send: Callable[[str], str]) -> tuple[str, Any]:
    with serving(fake) as url, cassette_player(name, decode).use_cassette(f"{name}.yaml") as cassette:
        receipt = send(url)
    return receipt, cassette


def assert_no_secrets(name: str) -> None:
    text = (CASSETTES / f"{name}.yaml").read_text(encoding="utf-8")
    for secret in ("xoxb-", TOKEN, AUTH_TOKEN, base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()):
        assert secret not in text


def test_slack_chat_post_message_as_recorded() -> None:
    def send(url: str) -> str:
        settings = SlackChannel(enabled=True, bot_token="xoxb-fake", channel="#jobs", api_url=f"{url}/api/")
        return Slack(settings).send(summary(2))

    receipt, cassette = play("slack_chat_post_message", FakeSlack(), lambda r: json.loads(r.body), send)

    assert receipt == "1700000000.000001" and cassette.play_count == (0 if RECORDING else 1)
    assert json.loads(cassette.requests[0].body)["text"] == "[Vorhölle] 2 new job matches — top: 82% Cloud Architect 2"
    assert_no_secrets("slack_chat_post_message")


def test_twilio_whatsapp_template_as_recorded() -> None:
    def send(url: str) -> str:
        settings = WhatsAppChannel(enabled=True, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100",
                                   to=["+4915100000001"], content_sid="HX" + "1" * 32, api_url=url)
        return WhatsApp(settings, "+4915100000001").send(summary(2))

    receipt, cassette = play("twilio_whatsapp_template", FakeTwilio(), form, send)

    assert receipt == "SM" + "0" * 31 + "1" and cassette.play_count == (0 if RECORDING else 1)
    assert form(cassette.requests[0])["To"] == ["whatsapp:+4915100000001"]
    assert_no_secrets("twilio_whatsapp_template")


def test_gmail_send_as_recorded() -> None:
    def send(url: str) -> str:
        settings = EmailChannel(enabled=True, transport="gmail", sender="jobs-bot@example.com", to=["reviewer@example.org"],
                                gmail={"token_file": "unused.json", "api_endpoint": f"{url}/"})
        transport = Gmail(settings, credentials=Credentials(token=TOKEN))
        return Email(transport, sender="jobs-bot@example.com", to=["reviewer@example.org"]).send(summary(2))

    receipt, cassette = play("gmail_messages_send", FakeGmail(), mime, send)

    assert receipt == "18c0ffee0001" and cassette.play_count == (0 if RECORDING else 1)
    assert mime(cassette.requests[0])["subject"] == "[Vorhölle] 2 new job matches — top: 82% Cloud Architect 2"
    assert_no_secrets("gmail_messages_send")


def test_a_changed_message_does_not_match_its_cassette() -> None:
    """The guard itself: a different body finds no recorded answer, and nothing is sent."""
    if RECORDING:
        pytest.skip("only meaningful when replaying")
    settings = SlackChannel(enabled=True, bot_token="xoxb-fake", channel="#jobs", api_url=f"{NOWHERE}/api/")
    with cassette_player("slack_chat_post_message", lambda r: json.loads(r.body)).use_cassette(
        "slack_chat_post_message.yaml"
    ) as cassette, pytest.raises(ChannelError, match="no recorded interaction matches it"):
        Slack(settings).send(summary(3))
    assert cassette.play_count == 0
