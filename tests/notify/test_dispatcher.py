"""The dispatcher on the sandbox GitLab with a fake clock: batches, holds, outages, restarts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from bot.converge import converge_issue
from bot.markers import parse_markers, render_marker
from bot.staging.match import Match
from bot.staging.stage import stage_cycle
from tests.fakes.http import Answer
from tests.notify.conftest import FakeClock


def test_a_staged_cycle_is_one_summary_per_channel_recorded_in_gitlab(make_bot):
    bot = make_bot()
    iids = bot.stage(97, 88, 75)

    (message,) = bot.slack.messages()
    assert message["text"] == "[Vorhölle] 3 new job matches — top: 97% Cloud Architect 1"
    assert len(bot.slack_items()) == 3
    (printed,) = bot.outbox_entries()
    assert printed["subject"] == message["text"] and len(printed["items"]) == 3
    for iid in iids:
        assert bot.notified(iid) == [("staged", "console"), ("staged", "slack")]
        (note,) = bot.delivery_notes(iid)
        assert "- slack: sent — ok" in note.body and note.internal
        assert not bot.has_owed_label(iid)


def test_nothing_repeats_after_a_restart_or_a_second_converge(make_bot):
    bot = make_bot()
    iids = bot.stage(91, 82)
    bot.clock.advance(minutes=5)

    bot.start()   # a new process: only GitLab remembers
    for iid in iids:
        bot.notifier.on_converged(bot.snapshot(iid))
    bot.notifier.flush_due()

    assert len(bot.slack.messages()) == 1 and len(bot.outbox_entries()) == 1
    assert all(len(bot.delivery_notes(iid)) == 1 for iid in iids)


def test_a_fresh_match_seen_by_converge_waits_for_its_cycle_then_goes_out_alone(make_bot):
    bot = make_bot(batch_seconds=60)
    bot.runtime.notifier, notifier = None, bot.notifier   # staging without a notifier
    (iid,) = bot.stage(93)
    bot.runtime.notifier = notifier

    bot.notifier.on_converged(bot.snapshot(iid))
    bot.notifier.flush_due()
    assert bot.slack.messages() == [] and bot.has_owed_label(iid)

    bot.clock.advance(seconds=61)
    bot.notifier.flush_due()
    assert bot.slack.messages()[0]["text"] == "[Vorhölle] New job match: 93% Cloud Architect 1"
    assert not bot.has_owed_label(iid)


def test_a_state_change_is_announced_with_who_and_why(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(88)
    marker = render_marker("transition", "note:4242", to="rejected", actor="Rita Reviewer", text="too junior")
    bot.runtime.gitlab.create_note(iid, f"Rejected by Rita Reviewer.\n\n{marker}")

    bot.notifier.on_converged(bot.snapshot(iid))

    last = bot.slack.messages()[-1]
    assert last["text"] == "[Vorhölle] Rejected: 88% Cloud Architect 1"
    assert "by Rita Reviewer: too junior" in last["blocks"][1]["text"]["text"]
    assert bot.notified(iid) == [("rejected", "console"), ("rejected", "slack"), ("staged", "console"), ("staged", "slack")]


def test_event_rules_choose_channels_and_minimum_scores(make_bot):
    bot = make_bot(events={"staged": {"channels": ["slack"], "min_score": 90}, "approved": ["console"]})
    low, high = bot.stage(80, 95)

    assert len(bot.slack_items()) == 1 and "95%" in bot.slack_items()[0]
    assert bot.outbox_entries() == []
    assert bot.notified(low) == [] and bot.notified(high) == [("staged", "slack")]


def test_possible_repeat_after_a_crash_between_sending_and_recording(make_bot):
    clock = FakeClock()
    bot = make_bot(clock)
    bot.runtime.notifier, notifier = None, bot.notifier
    (iid,) = bot.stage(90)
    bot.runtime.notifier = notifier
    snap = bot.snapshot(iid)
    source = snap.match_marker.source
    intent = render_marker("sending", source, event="staged", channel="slack")
    bot.runtime.gitlab.create_note(iid, f"Sending notifications: slack…\n\n{intent}", internal=True)

    bot.notifier.on_staged([bot.snapshot(iid)])
    assert bot.slack.messages() == []   # as far as GitLab shows, another replica may be sending it now
    clock.advance(seconds=bot.runtime.settings.notify.claim_lease_seconds + 1)   # no record: that process died
    bot.notifier.on_staged([bot.snapshot(iid)])

    (message,) = bot.slack.messages()
    assert "may repeat an earlier message" in message["blocks"][0]["text"]["text"]
    assert "may repeat" not in bot.outbox_entries()[0]["text"]
    repeat = [m for m in bot.snapshot(iid).bot_markers if m.kind == "notified" and m.data["channel"] == "slack"]
    assert repeat[0].data["possible_repeat"] is True


def test_a_channel_down_for_a_while_is_retried_reported_and_caught_up(make_bot):
    bot = make_bot(admin_channel="console", retry={"attempts": 2, "max_wait_seconds": 0, "report_after_rounds": 2})
    bot.slack.fail_next(2 * 3, Answer(500, "rollup_error"))   # three rounds of two attempts
    iids = bot.stage(96, 85)

    assert bot.slack.messages() == []
    assert len(bot.outbox_entries()) == 1   # console is not held back by Slack
    assert all(bot.has_owed_label(iid) for iid in iids)
    assert "slack: failed" in bot.delivery_notes(iids[0])[0].body

    bot.notifier.flush_due()                 # Slack rests: not even tried
    assert len(bot.slack.requests) == 2
    bot.clock.advance(minutes=2)
    bot.notifier.flush_due()                 # second failed round: reported to the admin
    assert len(bot.slack.requests) == 4
    health = [e for e in bot.outbox_entries() if e["kind"] == "health"]
    assert len(health) == 1 and "slack keeps failing (2 rounds)" in health[0]["text"]

    bot.start()                              # restart: the label finds the held issues
    bot.notifier.flush_due()                 # third failure
    bot.notifier.flush_due()                 # resting
    bot.clock.advance(minutes=5)
    bot.notifier.flush_due()                 # Slack is back

    assert len(bot.slack.messages()) == 1 and len(bot.slack_items()) == 2
    assert [e["kind"] for e in bot.outbox_entries()].count("news") == 1
    for iid in iids:
        assert bot.notified(iid) == [("staged", "console"), ("staged", "slack")]
        assert len(bot.delivery_notes(iid)) == 2   # the first round, and one edited while failing
        assert not bot.has_owed_label(iid)


def zone_where_it_is_late_evening(now: datetime) -> str:
    """A fixed-offset zone in which `now` is between 23:00 and midnight."""
    offset = (23 - now.hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_quiet_hours_across_midnight_hold_everything_for_one_digest_even_across_a_restart(make_bot):
    clock = FakeClock()
    quiet = {"start": "22:00", "end": "07:00", "timezone": zone_where_it_is_late_evening(clock.now)}
    bot = make_bot(clock, quiet_hours=quiet)
    first, second = bot.stage(94, 81)
    marker = render_marker("transition", "award:77", to="approved", actor="Rita Reviewer")
    bot.runtime.gitlab.create_note(first, f"Approved by Rita Reviewer.\n\n{marker}")
    bot.notifier.on_converged(bot.snapshot(first))

    assert bot.slack.requests == [] and bot.outbox_entries() == []
    assert bot.has_owed_label(first) and bot.has_owed_label(second)

    clock.advance(hours=1, minutes=30)   # after midnight, still quiet; the bot restarts
    bot.start()
    bot.notifier.flush_due()
    assert bot.slack.requests == []

    clock.advance(hours=7)               # morning
    bot.notifier.flush_due()
    bot.notifier.flush_due()

    (digest,) = bot.slack.messages()
    assert digest["text"] == "[Vorhölle] 2 new job matches, 1 approved — top: 94% Cloud Architect 1"
    assert len(bot.slack_items()) == 3 and len(bot.outbox_entries()) == 1
    assert bot.notified(first) == [("approved", "console"), ("approved", "slack"), ("staged", "console"), ("staged", "slack")]
    assert not bot.has_owed_label(first) and not bot.has_owed_label(second)


def test_gitlab_todo_assigns_the_reviewer_then_mentions_them(make_bot, world):
    reviewer = world.users["reviewer"]["username"]
    bot = make_bot(channels={"gitlab_todo": {"enabled": True, "reviewer": reviewer}, "slack": {"enabled": False}})
    (iid,) = bot.stage(95)
    marker = render_marker("transition", "note:99", to="approved", actor="Max Maintainer")
    bot.runtime.gitlab.create_note(iid, f"Approved.\n\n{marker}")
    bot.notifier.on_converged(bot.snapshot(iid))

    assert bot.snapshot(iid).assignees == (reviewer,)
    todos = world.clients["reviewer"].todos.list(get_all=True)
    assert sorted(t.action_name for t in todos if t.target["iid"] == iid) == ["assigned", "directly_addressed"]
    assert bot.notified(iid) == [("approved", "console"), ("approved", "gitlab_todo"), ("staged", "console"), ("staged", "gitlab_todo")]


def test_a_match_staged_for_an_assigned_reviewer_makes_no_second_to_do(make_bot, world):
    reviewer = world.users["reviewer"]
    bot = make_bot(channels={"gitlab_todo": {"enabled": True, "reviewer": reviewer["username"]}, "slack": {"enabled": False}})
    match = Match(title="Cloud Architect", score=95, url=f"https://jobs.example.com/{world.project_id}/assigned")
    (staged,) = stage_cycle(bot.runtime, [match], notify=False)
    bot.runtime.gitlab.assign(staged.iid, [reviewer["id"]])   # as staging does with staging.reviewer set
    bot.notifier.on_staged([bot.snapshot(staged.iid)])

    todos = [t.action_name for t in world.clients["reviewer"].todos.list(get_all=True) if t.target["iid"] == staged.iid]
    assert todos == ["assigned"]
    assert ("staged", "gitlab_todo") in bot.notified(staged.iid)


def writes(counters: dict) -> Counter[str]:
    return Counter({endpoint: sum(statuses.values()) for endpoint, statuses in counters["calls"].items()
                    if not endpoint.startswith("GET ")})


def reject(world, iid: int) -> None:
    world.project("reviewer").issues.get(iid, lazy=True).notes.create({"body": "/reject too junior"})


def sending_in_history(bot, iid: int) -> list[dict]:
    snap = bot.snapshot(iid)
    notes = [parse_markers(n.body) for n in snap.notes if n.author_id == snap.bot_user.id]
    return [m.data for markers in notes if any(m.kind == "transition" for m in markers)
            for m in markers if m.kind == "sending"]


def test_a_transition_with_notifications_costs_three_writes_its_intent_riding_on_the_history_note(make_bot, world, control):
    bot = make_bot()
    (iid,) = bot.stage(88)
    reject(world, iid)

    before = writes(control.counters())
    converge_issue(bot.runtime, iid)
    made = writes(control.counters()) - before

    assert made == Counter({"POST /projects/:id/issues/:iid/notes": 2, "PUT /projects/:id/issues/:iid": 1})
    assert sorted(m["channel"] for m in sending_in_history(bot, iid)) == ["console", "slack"]
    assert bot.slack.messages()[-1]["text"] == "[Vorhölle] Rejected: 88% Cloud Architect 1"
    record = bot.delivery_notes(iid)[-1]
    assert "- slack: sent — ok" in record.body and "Sending" not in record.body
    repeats = [m.data["possible_repeat"] for m in parse_markers(record.body) if m.kind == "notified"]
    assert repeats == [False, False]


def test_a_crash_after_the_history_note_leaves_its_intent_and_the_message_is_marked_a_possible_repeat(make_bot, world):
    clock = FakeClock()
    bot = make_bot(clock)
    (iid,) = bot.stage(88)
    reject(world, iid)
    bot.notifier.on_converged = lambda snapshot: None   # the process dies right after the converge's writes
    converge_issue(bot.runtime, iid)
    assert len(bot.slack.messages()) == 1               # the staging summary only

    bot.start()
    clock.advance(seconds=bot.runtime.settings.notify.claim_lease_seconds + 1)
    bot.notifier.on_converged(bot.snapshot(iid))

    last = bot.slack.messages()[-1]
    assert last["text"] == "[Vorhölle] Rejected: 88% Cloud Architect 1"
    assert "may repeat an earlier message" in last["blocks"][0]["text"]["text"]
    rejected = [m for m in bot.snapshot(iid).bot_markers if m.kind == "notified" and m.data["event"] == "rejected"]
    assert sorted((m.data["channel"], m.data["possible_repeat"]) for m in rejected) == [("console", True), ("slack", True)]


def test_a_failed_send_resolves_its_intent_so_the_later_delivery_is_no_repeat_even_after_a_restart(make_bot, world):
    bot = make_bot()
    (iid,) = bot.stage(88)
    reject(world, iid)
    bot.slack.fail_next(2, Answer(500, "rollup_error"))   # both attempts of one round
    converge_issue(bot.runtime, iid)

    (unsent,) = [m for m in bot.snapshot(iid).bot_markers if m.kind == "unsent"]
    assert unsent.data["channel"] == "slack"
    assert unsent.data["round"] == next(m["round"] for m in sending_in_history(bot, iid) if m["channel"] == "slack")
    assert bot.has_owed_label(iid)

    bot.start()
    bot.clock.advance(minutes=5)
    bot.notifier.flush_due()

    last = bot.slack.messages()[-1]
    assert last["text"] == "[Vorhölle] Rejected: 88% Cloud Architect 1"
    assert "may repeat" not in last["blocks"][0]["text"]["text"]
    assert bot.notified(iid).count(("rejected", "slack")) == 1
    assert not bot.has_owed_label(iid)


class Gate:
    """A channel whose first send waits until the test opens the gate."""

    def __init__(self, channel):
        self.channel, self.name = channel, channel.name
        self.entered, self.opened = threading.Event(), threading.Event()

    def send(self, message):
        self.entered.set()
        assert self.opened.wait(30)
        return self.channel.send(message)


def test_an_issue_arriving_during_a_round_waits_in_memory_for_the_next_round_not_under_the_owed_label(make_bot):
    bot = make_bot()
    bot.runtime.notifier, notifier = None, bot.notifier
    first, second = bot.stage(91, 82)
    bot.runtime.notifier = notifier
    bot.clock.advance(minutes=5)                         # past the staged matches' batch wait
    gate = notifier.channels["console"] = Gate(notifier.channels["console"])

    running = threading.Thread(target=notifier.on_converged, args=(bot.snapshot(first),))
    running.start()
    assert gate.entered.wait(30)
    notifier.on_converged(bot.snapshot(second))          # returns at once: the running round takes it
    assert not bot.has_owed_label(second) and bot.notified(second) == []

    gate.opened.set()
    running.join(30)
    assert not running.is_alive()
    assert bot.notified(second) == [("staged", "console"), ("staged", "slack")]
    assert len(bot.delivery_notes(second)) == 1 and not bot.has_owed_label(second)
