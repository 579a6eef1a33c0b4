"""What a digest shows of one match that several events reached in the same message."""

from __future__ import annotations

from bot.notify.message import Message
from tests.notify.items import item


def test_a_later_step_of_the_same_match_replaces_the_earlier_one():
    message = Message(items=(item(1, event="staged"), item(1, event="approved"), item(2, event="staged")))
    assert [(i.iid, i.event) for i in message.shown] == [(1, "approved"), (2, "staged")]


def test_an_answer_a_bounce_and_an_interview_round_each_keep_their_line():
    message = Message(items=(item(1, event="sent"), item(1, event="reply", reason="sounds like an interview invitation"),
                             item(1, event="bounced"), item(1, event="interview")))
    assert [i.event for i in message.shown] == ["sent", "reply", "bounced", "interview"]
    text = message.render("message.txt.j2")
    assert "sounds like an interview invitation" in text and text.count("Cloud Architect 1") == 4
