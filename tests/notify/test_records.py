"""The pure parts of record writing and of who hears what: markers merged into a home note, the
history note's text kept across edits, and the events that make a to-do."""

from __future__ import annotations

from bot.config.settings import load_settings
from bot.markers import Marker, parse_markers, render_marker
from bot.notify.audience import audience
from bot.notify.owed import Event, Owed
from bot.notify.records import history_body, merged


def delivery(kind: str, channel: str, **data) -> Marker:
    return Marker(kind, "note:7", {"event": "approved", "channel": channel, **data})


def test_an_intent_goes_once_resolved_and_a_failure_once_delivered():
    sending = [delivery("sending", "slack", round="r1"), delivery("sending", "console", round="r1")]
    failed = merged(sending, [delivery("unsent", "slack", round="r1", error="500"),
                              delivery("notified", "console", possible_repeat=False)])
    assert [(m.kind, m.data["channel"]) for m in failed] == [("unsent", "slack"), ("notified", "console")]

    retried = merged(failed, [delivery("sending", "slack", round="r2")])
    done = merged(retried, [delivery("notified", "slack", possible_repeat=False)])
    assert [(m.kind, m.data["channel"]) for m in done] == [("notified", "console"), ("notified", "slack")]


def test_an_intent_no_round_resolved_stays_so_a_crash_is_still_seen():
    crashed = merged([delivery("sending", "slack", round="r1")], [delivery("sending", "slack", round="r2"),
                                                                  delivery("unsent", "slack", round="r2")])
    assert [(m.kind, m.data["round"]) for m in crashed] == [("sending", "r1"), ("unsent", "r2")]


def test_the_history_note_keeps_its_text_and_markers_across_edits():
    transition = render_marker("transition", "note:7", to="approved", actor="Max")
    sending = render_marker('sending', 'note:7', event='approved', channel='slack', round='r1')
    body = f"**pending → approved** by Max.\n\n{transition}\n{sending}"
    once = history_body(body, merged(parse_markers(body), [delivery("notified", "slack", possible_repeat=False)]))
    twice = history_body(once, merged(parse_markers(once), [delivery("notified", "gitlab_todo", possible_repeat=True,
                                                                      mention="rita")]))

    assert twice.startswith("**pending → approved** by Max.\n\n<!-- vorhoelle:1 ")
    assert [m.kind for m in parse_markers(twice)] == ["transition", "notified", "notified"]
    assert twice.rstrip().endswith("🔔 Told: GitLab to-do, Slack.\n@rita this match is waiting for you. "
                          "(This may repeat an earlier to-do: the bot stopped before it could record that one.)")
    assert "receipt" not in twice


def test_a_to_do_goes_with_work_to_do_and_never_for_ones_own_step():
    settings = load_settings(staging={"reviewer": "rita"})
    hears = audience(settings).hears
    event = lambda name, **data: Owed(Event(name, "note:7", data=data), "gitlab_todo")  # noqa: E731
    assert [hears(event(name)) for name in ("staged", "approved", "interview", "rejected", "sent", "hired", "refused")] == [
        True, True, True, False, False, False, False]
    assert not hears(event("approved", username="Rita")) and hears(event("approved", username="max"))
    assert hears(Owed(Event("rejected", "note:7"), "slack"))
    own = load_settings(staging={"reviewer": "rita"}, notify={"own_actions": True})
    assert audience(own).hears(event("approved", username="rita"))
