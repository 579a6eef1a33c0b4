"""An interview round's message: the time in the reviewer's zone, and an .ics in the e-mail."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.notify.message import Message, item_of
from bot.notify.owed import Event, event_of
from bot.markers import Marker
from tests.fakes.gmail import FakeGmail
from tests.notify.test_email import gmail_channel

ROUND = {"happened": "round", "when": "2026-12-10T13:00:00+00:00", "zone": "Europe/Berlin", "round": 1,
         "with": "the hiring manager", "text": "video call", "actor": "Rita", "to": "interview"}


def round_message() -> Message:
    snapshot = SimpleNamespace(match_marker=None, iid=7, title="[JOB-MATCH] 92% — Platform Engineer",
                               web_url="https://gitlab.example.com/acme/jobs/-/issues/7")
    owed = SimpleNamespace(event=Event("interview", "note:55", None, ROUND), possible_repeat=False)
    return Message(items=(item_of(snapshot, owed, "[JOB-MATCH] {score}% — {title}"),))


@pytest.fixture
def gmail():
    with FakeGmail() as fake:
        yield fake


def test_the_round_is_announced_in_the_reviewers_zone_with_a_calendar_entry(gmail):
    gmail_channel(gmail).send(round_message())
    (mail,) = gmail.mails()
    assert mail["Subject"] == "[Vorhölle] Interview round: Platform Engineer"
    text = mail.get_body(("plain",)).get_content()
    assert "When: Thu 10 Dec 2026, 14:00 (Europe/Berlin), with the hiring manager" in text
    (ics,) = [part for part in mail.iter_attachments() if part.get_filename() == "interview-7-1.ics"]
    assert ics.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(ics.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 10, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert event["dtstart"].params["TZID"] == "Europe/Berlin" and calendar.walk("VTIMEZONE")
    assert str(event["uid"]) == "note:55@vorhoelle"
    assert str(event["summary"]) == "Interview: Platform Engineer (with the hiring manager)"


def test_other_events_carry_no_attachment(gmail):
    snapshot = SimpleNamespace(match_marker=None, iid=8, title="Offer", web_url="https://x/8")
    owed = SimpleNamespace(event=Event("offer", "note:56", None, {"happened": "offer", "text": "95 €/h"}),
                           possible_repeat=False)
    gmail_channel(gmail).send(Message(items=(item_of(snapshot, owed, "{title}"),)))
    (mail,) = gmail.mails()
    assert not list(mail.iter_attachments()) and "Offer received" in mail["Subject"]


def test_a_reply_is_its_own_event_not_the_state_again():
    assert event_of(Marker("transition", "note:1", {"to": "sent", "happened": "reply"})) == "reply"
    assert event_of(Marker("transition", "note:2", {"to": "interview", "happened": "round"})) == "interview"
