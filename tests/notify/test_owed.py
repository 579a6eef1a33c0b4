"""What is owed, decided from markers alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.markers import Marker
from bot.notify.owed import Recorded, owed
from bot.config.settings import EventRule

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


def test_an_intent_resolved_by_its_own_round_is_no_repeat_but_another_rounds_still_is():
    def intent(kind: str, round_id: str) -> Recorded:
        return Recorded(Marker(kind, MATCH.marker.source, {"event": "staged", "channel": "slack", "round": round_id}), NOW)

    assert ("staged", "slack", False) in owed_now(MATCH, intent("sending", "r1"), intent("unsent", "r1"))
    assert ("staged", "slack", True) in owed_now(MATCH, intent("sending", "r1"), intent("unsent", "r2"))


def test_this_processs_own_intents_are_no_repeat_and_need_no_new_one():
    key = ("staged", MATCH.marker.source, "slack")
    sending = Recorded(Marker("sending", key[1], {"event": "staged", "channel": "slack", "round": "r1"}), NOW)

    def slack(**options) -> tuple[bool, bool]:
        found = owed([MATCH, sending], rules=RULES, enabled=ENABLED, now=NOW, max_age=timedelta(days=7), **options)
        return next((o.possible_repeat, o.intended) for o in found if o.channel == "slack")

    assert slack() == (True, True)                                   # another process's: may repeat
    assert slack(intents={(key, "r1"): True}) == (False, True)       # ours, not yet sent
    assert slack(intents={(key, "r1"): False}) == (False, False)     # ours, resolved since the snapshot
