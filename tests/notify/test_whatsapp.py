"""WhatsApp through the Twilio SDK against a local server speaking Twilio's wire format."""

from __future__ import annotations

import json

import pytest

from bot.notify.channel import ChannelError
from bot.notify.whatsapp import WhatsApp
from bot.settings import WhatsAppChannel
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, twilio_error
from tests.notify.items import item, summary
from bot.notify.message import Message

REVIEWER = "+4915100000001"


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


def channel(fake: FakeTwilio, **overrides) -> WhatsApp:
    settings = dict(enabled=True, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100",
                    to=[REVIEWER], content_sid="HX" + "1" * 32, api_url=fake.url)
    return WhatsApp(WhatsAppChannel(**{**settings, **overrides}))


def test_template_by_default_with_top_match_and_review_link(twilio):
    receipt = channel(twilio).send(summary(4))

    (sent,) = twilio.sent()
    assert receipt.startswith("SM")
    assert sent["To"] == f"whatsapp:{REVIEWER}" and sent["From"] == "whatsapp:+14155550100"
    assert "Body" not in sent and sent["ContentSid"] == "HX" + "1" * 32
    assert json.loads(sent["ContentVariables"]) == {
        "1": "4 new job matches",
        "2": "84% Cloud Architect 4",
        "3": "https://gitlab.example.com/acme/jobs/-/issues?label_name[]=job-match/pending",
    }


def test_free_text_inside_the_24_hour_window(twilio):
    twilio.open_sessions.add(f"whatsapp:{REVIEWER}")
    channel(twilio, mode="free_text").send(Message(items=(item(7, event="approved", score=97, title="Data\u202eEngineer"),)))

    body = twilio.sent()[0]["Body"]
    assert body.splitlines() == [
        "Vorhölle: 1 approved.",
        "Approved: 97% DataEngineer (Nordlicht Consulting GmbH)",
        "https://gitlab.example.com/acme/jobs/-/issues/7",
    ]


def test_free_text_outside_the_window_is_a_permanent_failure(twilio):
    with pytest.raises(ChannelError, match="63016") as failure:
        channel(twilio, mode="free_text").send(summary(1))
    assert failure.value.permanent
    assert twilio.sent() == []


def test_rate_limit_is_temporary_and_carries_retry_after(twilio):
    twilio.fail_next(1, twilio_error(429, 20429, "Too Many Requests", {"Retry-After": "7"}))
    with pytest.raises(ChannelError) as failure:
        channel(twilio).send(summary(1))
    assert not failure.value.permanent and failure.value.retry_after == 7.0


def test_wrong_credentials_are_permanent(twilio):
    with pytest.raises(ChannelError, match="20003") as failure:
        channel(twilio, auth_token="wrong").send(summary(1))
    assert failure.value.permanent
