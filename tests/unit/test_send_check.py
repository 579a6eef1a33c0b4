"""Who has seen what `send` would mail, decided from hand-made GitLab JSON, without a network."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.markers import render_marker
from bot.send_check import unseen_change
from bot.snapshot import Person, build_snapshot
from bot.staging.parts import StagedParts

BOT = Person(1, "vorhoelle", "Vorhölle")
LEVELS = {1: 30, 2: 30, 5: 20, 6: 10}   # bot, a developer, a reporter, a guest
NAMES = {1: "vorhoelle", 2: "dev", 5: "rep", 6: "guest"}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
DEVELOPER = 30


def description(recipient: str, draft: str, staged: StagedParts | None = None) -> str:
    digests = (staged or StagedParts(recipient, draft)).digests()
    marker = render_marker("match", "match:k", score=90, token="t", staged=digests)
    contact = recipient.replace("@", "\\@")
    return (f"| Contact | Erika, {contact} |\n\n<details><summary>Draft (click to open)</summary>\n\n"
            f"{draft}\n\n</details>\n\n{marker}")


def snapshot(text: str, *edits: tuple[int, int], forged: str = "", state: str = "pending", comments=(),
             label_events=()):
    """An issue the bot staged at T0 with `text`, then description edits (who, seconds after T0)
    and `comments` (who, body, seconds after T0)."""
    def note(i: int, who: int, body: str, at: int, system: bool) -> dict:
        return {"id": 100 + i, "author": {"id": who, "username": NAMES[who]}, "body": body,
                "created_at": (T0 + timedelta(seconds=at)).isoformat(), "system": system}

    notes = [note(i, who, "changed the description", at, True) for i, (who, at) in enumerate(edits)]
    notes += [note(50 + i, who, body, at, False) for i, (who, body, at) in enumerate(comments)]
    issue = {"iid": 1, "id": 1, "description": text + forged, "author": {"id": BOT.id, "username": BOT.username},
             "created_at": T0.isoformat(), "labels": ["job-match", f"job-match/{state}"]}
    return build_snapshot(issue, list(label_events), notes, [], BOT)


def check(snap, since_seconds: int = 0):
    return unseen_change(snap, T0 + timedelta(seconds=since_seconds), DEVELOPER, LEVELS.__getitem__)


STAGED = StagedParts("erika@example.org", "Dear Erika")


def test_untouched_or_last_edited_by_someone_with_the_right_is_seen():
    assert check(snapshot(description("erika@example.org", "Dear Erika"))) is None
    assert check(snapshot(description("x@example.net", "Dear Erika", STAGED), (5, 10), (2, 20))) is None


def test_an_edit_below_the_right_names_what_changed_and_who():
    unseen = check(snapshot(description("x@example.net", "Dear Erika", STAGED), (2, 10), (5, 20), (6, 30)))
    assert unseen is not None and unseen.changed == ("recipient",) and unseen.recipient == "x@example.net"
    assert [p.username for p in unseen.editors] == ["rep", "guest"]


def test_the_bots_own_rewrite_starts_afresh_and_a_confirmation_looks_only_at_later_edits():
    text = description("erika@example.org", "Dear Erika")
    assert check(snapshot(text, (5, 10), (1, 20))) is None     # a rescore rewrote the description
    assert check(snapshot(text, (5, 10)), since_seconds=15) is None
    assert check(snapshot(text, (5, 10)), since_seconds=5).changed == ()   # nothing the record names


def test_a_forged_marker_in_the_description_counts_for_nothing():
    forged = "\n" + render_marker("transition", "note:9", **{"from": "approved", "to": "sent", "state": "sent"})
    snap = snapshot(description("erika@example.org", "Dear Erika"), forged=forged)
    assert [m.kind for m in snap.bot_markers] == ["match"] and snap.description_markers == snap.bot_markers


def test_a_description_the_bot_did_not_write_is_never_mailed_so_never_held():
    snap = snapshot(description("x@example.net", "Dear Erika", STAGED), (5, 10))
    assert check(snap) is not None
    assert check(replace(snap, author=Person(5, "rep", "Rep"))) is None


def test_a_change_gitlab_names_no_editor_for_is_held_until_confirmed():
    snap = snapshot(description("x@example.net", "Dear Erika", STAGED))   # no "changed the description" note
    unseen = check(snap)
    assert unseen is not None and unseen.changed == ("recipient",) and unseen.editors == ()
    assert check(snap, since_seconds=30) is None   # a confirmation after the bot asked


def test_the_question_names_what_changed_and_who_or_that_gitlab_named_nobody():
    from bot import history
    from bot.config.settings import load_settings
    from bot.workflow import plan

    workflow = load_settings().workflow

    def question(*edits: tuple[int, int]) -> str:
        snap = snapshot(description("x@example.net", "Dear Erika", STAGED), *edits, state="approved",
                        comments=[(2, "/send", 40)])
        (reply,) = plan(snap, workflow, LEVELS.get, guard_send=True).replies
        assert reply.kind == "refusal" and reply.state == "approved"
        return history.note_body(reply, snap, workflow)

    named = question((5, 10))
    assert named.startswith("@dev I did not send this match yet. The recipient (Contact row) changed since it was "
                            "staged, last edited by rep (rep, reporter), who may not send (that needs developer access).")
    assert "would now go to x\\@example.net" in named and "`/confirm-send`" in named
    assert "GitLab recorded no edit by anyone who may send (developer access)." in question()


def test_a_developer_swapping_the_label_to_sent_after_a_reporters_edit_gets_the_label_put_back():
    from bot.config.settings import load_settings
    from bot.workflow import plan

    at = (T0 + timedelta(seconds=40)).isoformat()
    swap = [{"id": 300 + i, "user": {"id": 2, "username": "dev"}, "created_at": at, "label": {"name": name},
             "action": action} for i, (name, action) in enumerate([("job-match/sent", "add"),
                                                                    ("job-match/approved", "remove")])]
    snap = snapshot(description("x@example.net", "Dear Erika", STAGED), (5, 10), label_events=swap)
    snap = replace(snap, labels=("job-match", "job-match/sent"))
    result = plan(snap, load_settings().workflow, LEVELS.get, guard_send=True)
    assert result.final_state == "approved"
    assert [o.why for r in result.replies for o in r.outcomes] == ["unseen_changes"]
    assert result.add_labels == ("job-match/approved",) and result.remove_labels == ("job-match/sent",)
