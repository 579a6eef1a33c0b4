"""Reminders end to end on the sandbox (bot/followup), with a clock that only the test moves:
each sent once, at its time, in the configured zone, never during quiet hours, never again after
a restart, never for a snoozed or sent match."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.converge import converge_issue
from bot.followup.sweep import sweep
from bot.staging.match import Match
from bot.staging.stage import stage_cycle
from bot.workflow import ApiAction
from tests.notify.conftest import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


def reminders(bot) -> list[dict]:
    """Every reminder item the console printed, over all messages."""
    return [item for entry in bot.outbox_entries() for item in entry["items"] if item["event"] == "reminder"]


def act(bot, iid: int, action: str, n: int, **more) -> None:
    converge_issue(bot.runtime, iid, api_actions=[ApiAction(f"t{iid}-{n}", action, "rita", created_at=bot.clock(), **more)])


def test_a_waiting_match_is_reminded_once_per_period_batched_and_not_after_a_restart(make_bot):
    bot = make_bot()
    first, second = bot.stage(80, 75)
    assert sweep(bot.runtime).reminders == []

    bot.clock.advance(days=3, hours=1)
    report = sweep(bot.runtime)
    assert sorted(r.iid for r in report.reminders) == [first, second]
    (item_a, item_b) = reminders(bot)
    assert item_a["reason"] == item_b["reason"] == "2 matches waiting, oldest 3 days"
    assert len([e for e in bot.outbox_entries() if e["subject"].startswith("[Vorhölle] 2 reminders")]) == 1

    assert sweep(bot.runtime).reminders == []
    bot.start()   # a restart: only GitLab remembers
    assert sweep(bot.runtime).reminders == [] and len(reminders(bot)) == 2

    act(bot, second, "approve", 1)
    bot.clock.advance(days=3)
    assert [r.iid for r in sweep(bot.runtime).reminders] == [first]   # the next period, still waiting
    assert reminders(bot)[-1]["reason"] == "1 match waiting, oldest 6 days"


def test_quiet_hours_hold_a_reminder_until_they_end(make_bot):
    now = datetime.now(timezone.utc)
    night = datetime.combine(now.astimezone(BERLIN).date() + timedelta(days=4), datetime.min.time(), BERLIN)
    clock = FakeClock(night.replace(hour=23).astimezone(timezone.utc))
    bot = make_bot(clock, quiet_hours={"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"})
    bot.stage(80)

    report = sweep(bot.runtime)
    assert report.quiet and reminders(bot) == []
    clock.advance(hours=7, minutes=59)   # 06:59 in Berlin
    assert sweep(bot.runtime).quiet and reminders(bot) == []
    clock.advance(minutes=1)             # 07:00
    assert len(sweep(bot.runtime).reminders) == 1 and len(reminders(bot)) == 1


def stage_with_deadline(bot, apply_by: date, title: str) -> int:
    match = Match(title=title, score=80, provider="Nordlicht Consulting GmbH", apply_by=apply_by,
                  url=f"https://jobs.example.com/{bot.world.project_id}/{title}")
    (result,) = stage_cycle(bot.runtime, [match])
    return result.iid


def test_a_deadline_is_reminded_days_before_in_the_zone_and_never_once_sent(make_bot):
    bot = make_bot()
    today = bot.clock().astimezone(BERLIN).date()
    apply_by = today + timedelta(days=6)
    waiting = stage_with_deadline(bot, apply_by, "Data Engineer")
    sent = stage_with_deadline(bot, apply_by, "Platform Engineer")
    assert bot.snapshot(waiting).due_date == apply_by.isoformat()
    act(bot, sent, "approve", 1)
    act(bot, sent, "send", 2)
    bot.runtime.settings.follow_up.review_after_days = 30   # only the deadline here

    # Two days before the day, at midnight in Berlin (not in UTC).
    two_days_before = datetime.combine(apply_by - timedelta(days=2), datetime.min.time(), BERLIN)
    bot.clock.now = two_days_before - timedelta(minutes=1)
    assert sweep(bot.runtime).reminders == []
    bot.clock.now = two_days_before + timedelta(minutes=1)
    report = sweep(bot.runtime)
    assert [(r.iid, r.kind) for r in report.reminders] == [(waiting, "deadline")]
    assert reminders(bot)[0]["reason"] == f"apply by {apply_by.isoformat()} (in 2 days)"
    assert bot.snapshot(waiting).due_date == apply_by.isoformat()   # kept by the converge
    bot.clock.advance(days=1)
    assert sweep(bot.runtime).reminders == []


def test_no_answer_nudges_then_moves_to_no_reply_once(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(85)
    act(bot, iid, "approve", 1)
    act(bot, iid, "send", 2)

    bot.clock.advance(days=9, hours=23)
    assert sweep(bot.runtime).reminders == []
    bot.clock.advance(hours=2)
    sweep(bot.runtime)
    assert [r["reason"] for r in reminders(bot)] == [
        "no answer from Nordlicht Consulting GmbH for 10 days — follow up?"]

    bot.clock.advance(days=11)
    report = sweep(bot.runtime)
    assert report.moved == [iid]
    snapshot = bot.snapshot(iid)
    assert bot.runtime.settings.workflow.states["no-reply"].label in snapshot.labels
    assert ("no-reply", "console") in bot.notified(iid)
    bot.start()
    assert sweep(bot.runtime).moved == [] and len(reminders(bot)) == 1


def test_a_reply_stops_the_nudge(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(85)
    act(bot, iid, "approve", 1)
    act(bot, iid, "send", 2)
    bot.clock.advance(days=2)
    act(bot, iid, "reply", 3, reason="they will call next week")
    bot.clock.advance(days=30)
    report = sweep(bot.runtime)
    assert report.reminders == [] and report.moved == []


def test_an_interview_is_reminded_the_day_and_the_hour_before_in_local_time(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(85)
    act(bot, iid, "approve", 1)
    act(bot, iid, "send", 2)
    start = (bot.clock() + timedelta(days=3)).astimezone(BERLIN).replace(hour=14, minute=0, second=0, microsecond=0)
    act(bot, iid, "interview", 3, when=start.strftime("%Y-%m-%d %H:%M"), with_="the hiring manager")
    bot.runtime.settings.follow_up.review_after_days = 30

    bot.clock.now = start - timedelta(hours=24, minutes=1)
    assert sweep(bot.runtime).reminders == []
    bot.clock.now = start - timedelta(hours=23)
    sweep(bot.runtime)
    bot.clock.now = start - timedelta(minutes=50)
    sweep(bot.runtime)
    sweep(bot.runtime)
    bot.clock.now = start + timedelta(minutes=5)
    sweep(bot.runtime)
    expected = f"interview with the hiring manager {start:%a %d %b %Y}, 14:00 (Europe/Berlin)"
    assert [r["reason"] for r in reminders(bot)] == [expected, expected]


def comment(bot, iid: int, body: str, user: str = "reviewer") -> None:
    bot.world.clients[user].projects.get(bot.world.project_id).issues.get(iid).notes.create({"body": body})
    converge_issue(bot.runtime, iid)


def test_snooze_hides_a_match_then_brings_it_back_with_a_note(make_bot):
    bot = make_bot()
    snoozed, waiting = bot.stage(80, 75)
    comment(bot, snoozed, "/snooze 1w")
    assert bot.runtime.settings.follow_up.label in bot.snapshot(snoozed).labels
    (note,) = [n for n in bot.snapshot(snoozed).notes if "Snoozed by" in n.body]

    bot.clock.advance(days=3, hours=1)
    assert [r.iid for r in sweep(bot.runtime).reminders] == [waiting]
    bot.clock.advance(days=4)   # the week is over
    report = sweep(bot.runtime)
    # Back with a note, and back in the review reminders (both waited two periods now).
    assert sorted((r.iid, r.kind) for r in report.reminders) == [
        (snoozed, "review"), (snoozed, "snooze-over"), (waiting, "review")]
    assert any("back from snooze" in n.body for n in bot.snapshot(snoozed).notes)
    assert bot.runtime.settings.follow_up.label not in bot.snapshot(snoozed).labels
    assert sweep(bot.runtime).reminders == []


def test_remind_reminds_the_person_who_asked_once(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(80)
    bot.runtime.settings.follow_up.review_after_days = 30
    comment(bot, iid, "/remind 2d call Anna about the rate")
    bot.clock.advance(days=1, hours=23)
    assert sweep(bot.runtime).reminders == []
    bot.clock.advance(hours=2)
    sweep(bot.runtime)
    bot.start()
    sweep(bot.runtime)
    assert [r["reason"] for r in reminders(bot)] == ["call Anna about the rate"]
    reviewer = bot.world.users["reviewer"]["username"]
    assert any(n.body.startswith(f"@{reviewer} ") and "call Anna" in n.body for n in bot.snapshot(iid).notes)


def test_snooze_and_remind_explain_what_they_cannot_read_or_allow(make_bot):
    bot = make_bot()
    (iid,) = bot.stage(80)
    comment(bot, iid, "/snooze someday")
    comment(bot, iid, "/snooze 3d", user="reporter")
    notes = [n.body for n in bot.snapshot(iid).notes]
    assert any("I did not set the snooze: cannot read 'someday'" in body for body in notes)
    assert any("Only people with developer access or more may use `/snooze`" in body for body in notes)
    assert bot.runtime.settings.follow_up.label not in bot.snapshot(iid).labels
