"""What is owed, decided from markers alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.markers import Marker
from bot.notify.owed import Recorded, owed
from bot.settings import EventRule

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
RULES = {"staged": EventRule(channels=["all"]), "approved": EventRule(channels=["slack"], min_score=90),
         "refused": EventRule(channels=["gitlab_todo"])}
ENABLED = ["console", "slack"]
MATCH = Recorded(Marker("match", "match:https://jobs.example.com/1", {"score": 92}), NOW - timedelta(hours=1))


def owed_now(*recorded: Recorded, **options) -> list[tuple[str, str, bool]]:
    found = owed(list(recorded), rules=RULES, enabled=ENABLED, now=NOW, max_age=timedelta(days=7), **options)
    return [(o.event.name, o.channel, o.possible_repeat) for o in found]


def notified(event: str, source: str, channel: str, kind: str = "notified") -> Recorded:
    return Recorded(Marker(kind, source, {"event": event, "channel": channel}), NOW)


def test_a_staged_match_is_owed_on_every_enabled_channel_until_recorded():
    assert owed_now(MATCH) == [("staged", "console", False), ("staged", "slack", False)]
    assert owed_now(MATCH, notified("staged", MATCH.marker.source, "slack")) == [("staged", "console", False)]


def test_transitions_follow_their_rule_and_the_match_score():
    approved = Recorded(Marker("transition", "note:7", {"to": "approved", "actor": "Rita"}), NOW)
    assert owed_now(MATCH, approved, delivered={("staged", MATCH.marker.source, c) for c in ENABLED}) == [
        ("approved", "slack", False)
    ]
    low = Recorded(Marker("match", "match:x", {"score": 80}), NOW)
    assert owed_now(low, approved, delivered={("staged", "match:x", c) for c in ENABLED}) == []


def test_an_intent_without_a_record_is_owed_again_as_a_possible_repeat():
    intent = notified("staged", MATCH.marker.source, "slack", kind="sending")
    assert ("staged", "slack", True) in owed_now(MATCH, intent)


def test_old_events_and_unknown_kinds_are_not_news():
    old = Recorded(MATCH.marker, NOW - timedelta(days=8))
    help_reply = Recorded(Marker("help", "note:9"), NOW)
    assert owed_now(old, help_reply) == []


def test_refusals_go_only_where_their_rule_says():
    refusal = Recorded(Marker("refusal", "note:11", {"refused": ["no_right"]}), NOW)
    assert owed_now(refusal) == []   # gitlab_todo is not enabled here
