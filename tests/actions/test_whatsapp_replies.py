"""Approve and reject by replying on WhatsApp: Twilio's inbound webhook (form fields signed with
X-Twilio-Signature over the public URL) to /twilio/inbound, the converge on the sandbox GitLab,
and the TwiML answer saying what happened."""

from __future__ import annotations

import re

import pytest

from bot.notify.message import Message
from bot.notify.whatsapp import WhatsApp
from bot.config.settings import WhatsAppChannel
from tests.actions.conftest import GUEST_PHONE, PUBLIC_URL, REVIEWER_PHONE, STRANGER_PHONE
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, inbound
from tests.notify.items import item

pytestmark = pytest.mark.timeout(120)


def said(answer) -> str:
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    (text,) = re.findall(r"<Message>(.*)</Message>", answer.text, re.DOTALL)
    return text


def test_a_new_match_on_whatsapp_ends_with_the_reply_codes():
    with FakeTwilio() as twilio:
        twilio.open_sessions.add("whatsapp:" + REVIEWER_PHONE)
        settings = WhatsAppChannel(enabled=True, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100",
                                   to=[REVIEWER_PHONE], mode="free_text", api_url=twilio.url, inbound=True)
        WhatsApp(settings, REVIEWER_PHONE).send(Message(items=(item(12),)))
        (sent,) = twilio.sent()
    assert sent["Body"].rstrip().endswith("\nReply *A 12* to approve, *R 12 <reason>* to reject.")


def test_reply_a_approves_as_the_mapped_reviewer(desk):
    iid, _ = desk.stage()
    answer = inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {iid}")

    assert said(answer).startswith(f"Approved #{iid} as ") and said(answer).endswith("; GitLab records it.")
    assert desk.labels(iid) == {"job-match/approved"}
    (step,) = desk.history(iid)
    assert step["channel"] == "whatsapp" and " via WhatsApp, " in step["body"]


def test_reply_r_rejects_with_the_reason(desk):
    iid, _ = desk.stage()
    answer = inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"R {iid} the commute is too long")

    assert said(answer).startswith(f"Rejected #{iid} as ")
    (step,) = desk.history(iid)
    assert step["to"] == "rejected" and step["text"] == "the commute is too long"


def test_a_guest_is_refused_and_an_unknown_number_is_told(desk):
    iid, _ = desk.stage()
    guest = said(inbound(desk.bot.url, PUBLIC_URL, GUEST_PHONE, f"A {iid}"))
    stranger = said(inbound(desk.bot.url, PUBLIC_URL, STRANGER_PHONE, f"A {iid}"))

    assert guest == f"I did not approve #{iid}: that needs developer access or more, and you have guest access in GitLab."
    assert stranger == f"I don't know you in GitLab — ask the maintainer to map {STRANGER_PHONE}."
    assert [d["refused"] for d in desk.decisions(iid)] == [["no_right"]]
    assert desk.labels(iid) == {"job-match/pending"}


@pytest.mark.parametrize("text", ["yes", "A 12 please", "approve 1", "", "R"])
def test_anything_else_gets_the_help_and_is_never_acted_upon(desk, text):
    iid, _ = desk.stage()
    answer = said(inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, text))

    assert answer.startswith("Reply *A 12* to approve match 12")
    assert desk.decisions(iid) == [] and desk.labels(iid) == {"job-match/pending"}


@pytest.mark.parametrize("forgery", ["wrong token", "another url", "no signature"])
def test_a_request_twilio_did_not_sign_is_401(desk, forgery, caplog):
    iid, _ = desk.stage()
    answer = {
        "wrong token": lambda: inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {iid}", token="not-the-token"),
        "another url": lambda: inbound(desk.bot.url, "https://elsewhere.example.org", REVIEWER_PHONE, f"A {iid}"),
        "no signature": lambda: inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {iid}", signature=""),
    }[forgery]()

    assert answer.status_code == 401 and answer.json()["error"] == "invalid Twilio signature"
    assert "Twilio request refused (401)" in caplog.text
    assert desk.decisions(iid) == []


def test_a_retried_delivery_is_recorded_once(desk):
    iid, _ = desk.stage()
    sid = "SM" + "7" * 32
    first = said(inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {iid}", message_sid=sid))
    again = said(inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {iid}", message_sid=sid))

    assert first.startswith("Approved") and again.startswith(f"Nothing changed: #{iid} is already approved (")
    assert [s["source"] for s in desk.history(iid)] == [f"whatsapp:{sid}"]


def test_a_number_that_is_no_match_is_said_so(desk):
    iid, _ = desk.stage()
    plain = desk.world.project("reviewer").issues.create({"title": "Not a match"}).iid

    assert said(inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, "A 9999")) == "#9999 is not a job match I look after."
    assert said(inbound(desk.bot.url, PUBLIC_URL, REVIEWER_PHONE, f"A {plain}")) == f"#{plain} is not a job match I look after."
    assert desk.decisions(iid) == []
