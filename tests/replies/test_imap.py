"""The mailbox over real IMAP (Dovecot, TLS, login): realistic mail matched and recorded once."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from bot.converge import ApiAction, converge_issue
from bot.replies.imap import ImapMailbox
from bot.replies.run import run_pass
from bot.replies.source import MailboxError
from bot.snapshot import read_snapshot
from tests.fakes.smtp import FakeSmtp
from tests.replies import mails
from tests.replies.applications import mailing_runtime, send
from tests.replies.conftest import imap_settings

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


def visible(note: str) -> str:
    """A note without its markers (JSON in an HTML comment, inert and unseen)."""
    return re.sub(r"<!-- vorhoelle:.*?-->", "", note)


def bot_notes(gitlab, iid):
    snapshot = read_snapshot(gitlab, iid)
    return snapshot, [n.body for n in snapshot.notes if n.author_id == snapshot.bot_user.id and not n.system]


def test_a_mailbox_of_answers_lands_on_the_right_issues_once(world, dovecot):
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port, replies=imap_settings(dovecot))
        platform = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG",
                        contact="erika@example.org", url=f"https://jobs.blauwal.example/{world.project_id}/platform")
        data = send(runtime, smtp, title="Data Engineer", company="Kranich GmbH",
                    contact="hr@kranich.example", url=f"https://kranich.example/jobs/{world.project_id}")
        qa = send(runtime, smtp, title="QA Engineer", company="Möwe KG",
                  contact="wrong@nowhere.example", url=f"https://moewe.example/{world.project_id}")
    interview_at = datetime(2026, 12, 10, 13, 0, tzinfo=timezone.utc)
    for mail in (mails.german_reply(platform.message_id), mails.hostile_reply(), mails.auto_reply(platform.message_id),
                 mails.html_only_reply(), mails.invitation(data.message_id, interview_at),
                 mails.bounce(qa.message_id, "wrong@nowhere.example"), mails.unrelated()):
        dovecot.deliver(bytes(mail))
    mailbox = ImapMailbox(runtime.settings.replies.imap)

    preview = run_pass(runtime, mailbox, dry_run=True, now=clock)
    assert len(preview.of("would_record")) == 6 and read_snapshot(runtime.gitlab, platform.iid).state == "opened"
    first = run_pass(runtime, ImapMailbox(runtime.settings.replies.imap), now=clock)

    assert {(s.mail.subject, s.iid, s.how) for s in first.of("recorded")} == {
        ("AW: Application: Platform Engineer", platform.iid, "thread"),
        ("Re: /close @all <b>urgent</b> [click](https://evil.example)", platform.iid, "contact"),
        ("Abwesenheitsnotiz: Application: Platform Engineer", platform.iid, "thread"),
        ("Your application as Data Engineer", data.iid, "contact"),
        ("Invitation: Interview Data Engineer", data.iid, "thread"),
        ("Undelivered Mail Returned to Sender", qa.iid, "thread"),
    }
    (unmatched,) = first.of("unmatched")
    assert unmatched.mail.sender_address == "news@jobs-digest.example"

    snapshot, notes = bot_notes(runtime.gitlab, platform.iid)
    (german,) = [n for n in notes if "AW: Application" in n and "Reply received" in n]
    assert "> vielen Dank für Ihre Bewerbung" in german and "Erika Example &lt;erika\\@example.org&gt;" in german
    assert "Secret salary" not in german and "schrieb" not in german   # quoted history stays out
    (hostile,) = [visible(n) for n in notes if "urgent" in n]
    assert snapshot.state == "opened" and "\n/close" not in hostile and "@all" not in hostile.replace("\\@all", "")
    assert "<b>" not in hostile and "<img" not in hostile and "](https" not in hostile
    (automatic,) = [n for n in notes if "Automatic mail" in n]
    assert "Reply received" not in automatic
    assert snapshot.labels.count("job-match/sent") == 1

    snapshot, notes = bot_notes(runtime.gitlab, data.iid)
    assert "job-match/interview" in snapshot.labels and snapshot.due_date == "2026-12-10"
    assert any("Interview round 1" in n and "14:00" in n for n in notes)   # 13:00 UTC in Berlin
    assert any("We would like to get to know you" in n and "earlier mail" not in n for n in notes)

    _, notes = bot_notes(runtime.gitlab, qa.iid)
    assert any("application mail bounced" in n for n in notes)

    counts = {iid: len(bot_notes(runtime.gitlab, iid)[1]) for iid in (platform.iid, data.iid, qa.iid)}
    again = run_pass(runtime, ImapMailbox(runtime.settings.replies.imap), now=clock)   # a restart: no memory
    assert again.of("recorded") == [] and len(again.of("already")) == 6
    assert {iid: len(bot_notes(runtime.gitlab, iid)[1]) for iid in counts} == counts


def test_a_running_mailbox_asks_only_for_mail_it_has_not_read(world, dovecot):
    runtime_settings = imap_settings(dovecot)
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port, replies=runtime_settings)
        sent = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG", contact="erika@example.org",
                    url=f"https://blauwal.example/{world.project_id}")
    mailbox = ImapMailbox(runtime.settings.replies.imap)
    dovecot.deliver(bytes(mails.german_reply(sent.message_id)))
    assert len(run_pass(runtime, mailbox, now=clock).of("recorded")) == 1
    dovecot.deliver(bytes(mails.english_reply_with_attachment(sent.message_id)))
    second = run_pass(runtime, mailbox, now=clock)
    assert [s.status for s in second.seen] == ["recorded"]   # the first mail was not read again
    _, notes = bot_notes(runtime.gitlab, sent.iid)
    assert any("Attachments: Fragebogen.pdf" in n and "please fill in the attached form" in n for n in notes)

    converge_issue(runtime, sent.iid, api_actions=[ApiAction("no", "turned-down", actor="Rita", reason="no Go")])
    closed = run_pass(runtime, ImapMailbox(runtime.settings.replies.imap), now=clock)   # after a restart
    assert read_snapshot(runtime.gitlab, sent.iid).state == "closed"
    assert [s.status for s in closed.seen] == ["already", "already"]   # done with, not unmatched


def test_record_body_false_keeps_sender_date_and_subject_only(world, dovecot):
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port, replies={**imap_settings(dovecot), "record_body": False})
        sent = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG", contact="erika@example.org",
                    url=f"https://blauwal.example/{world.project_id}")
    dovecot.deliver(bytes(mails.english_reply_with_attachment(sent.message_id)))
    run_pass(runtime, ImapMailbox(runtime.settings.replies.imap), now=clock)
    _, notes = bot_notes(runtime.gitlab, sent.iid)
    (note,) = [n for n in notes if "Reply received" in n]
    assert "Subject: Re: Application: Platform Engineer" in note
    assert "fill in" not in note and "Fragebogen" not in note


@pytest.mark.parametrize("change, said", [
    ({"password": "wrong"}, "login as jobs@example.org refused"),
    ({"mailbox": "Nowhere"}, "no mailbox 'Nowhere'"),
    ({"ca_file": None}, "TLS failed"),
])
def test_a_mailbox_that_cannot_be_read_is_one_line(world, dovecot, change, said):
    from bot.config.sections import ImapSettings

    settings = {**imap_settings(dovecot)["imap"], **change}
    with pytest.raises(MailboxError, match=said):
        ImapMailbox(ImapSettings(**settings)).read_since(NOW)
