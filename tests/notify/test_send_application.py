"""Sending the application: the draft read back from the staged issue, mailed over real SMTP."""

from __future__ import annotations

import pytest

from bot.markers import source_id
from bot.staging.match import Match
from bot.notify.email_smtp import Smtp
from bot.notify.send_application import send_application
from bot.snapshot import read_snapshot
from bot.staging.stage import stage_cycle
from tests.fakes.smtp import PASSWORD, USER, FakeSmtp
from tests.support.bot import bot_runtime

DRAFT = "Dear Ms. Example,\n\nI *really* like <this> role & team — see @skills below.\n/close is not a command here.\n\nBest,\nRita"


def staged_runtime(world, tmp_path, port, *, contact=True):
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(b"%PDF-1.4 made-up CV")
    email = {"enabled": True, "transport": "smtp", "sender": "rita@example.com", "to": ["rita@example.com"],
             "smtp": {"host": "127.0.0.1", "port": port, "starttls": False, "username": USER, "password": PASSWORD},
             "send_application": {"enabled": True, "attachment": "cv"}}
    runtime = bot_runtime(world, notify={"channels": {"email": email}}, staging={"attachments": {"cv": str(cv)}})
    match = Match(title="Platform Engineer", score=91, provider="Blauwal AG", url=f"https://jobs.example.com/{world.project_id}",
                  draft=DRAFT, contact={"name": "Erika Example", "email": "erika@example.org"} if contact else None)
    (result,) = stage_cycle(runtime, [match])
    return runtime, runtime.gitlab, result.iid


def test_the_draft_is_mailed_once_with_the_cv_and_recorded(world, tmp_path):
    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port)
        transport = Smtp(runtime.settings.notify.channels.email.smtp)
        first = send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), source_id("note", 1), transport=transport)
        again = send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), source_id("note", 1), transport=transport)

    ((recipients, mail),) = smtp.inbox.mails
    assert first.status == "sent" and again.status == "already_sent" and again.message_id == first.message_id
    assert recipients == ["erika@example.org"] and mail["From"] == "rita@example.com"
    assert mail["Subject"] == "Application: Platform Engineer"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == DRAFT   # SMTP sends CRLF
    (cv,) = list(mail.iter_attachments())
    assert cv.get_filename() == "cv.pdf" and cv.get_content() == b"%PDF-1.4 made-up CV"
    snapshot = read_snapshot(gitlab, iid)
    (note,) = [n.body for n in snapshot.notes if "Application sent" in n.body]
    assert "Application sent to erika\\@example.org" in note   # shown, not a mention
    (receipt,) = [m for m in snapshot.bot_markers if m.kind == "application_sent"]
    assert receipt.data["message_id"] == first.message_id


def test_dry_run_and_missing_contact_mail_nothing(world, tmp_path):
    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port, contact=False)
        snapshot = read_snapshot(gitlab, iid)
        result = send_application(runtime.settings, gitlab, snapshot, "note:2")
        preview = send_application(runtime.settings, gitlab, snapshot, "note:2", dry_run=True)
    assert result.status == "no_contact" and preview.status == "no_contact"
    assert smtp.inbox.mails == [] and len(read_snapshot(gitlab, iid).notes) == len(snapshot.notes)


def test_converge_mails_the_application_when_the_match_is_sent_and_only_once(world, tmp_path):
    from bot.converge import ApiAction, converge_issue

    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port)
        converge_issue(runtime, iid, api_actions=[ApiAction("req-approve", "approve", actor="Rita Reviewer")])
        assert smtp.inbox.mails == []          # approving mails nothing
        sent = converge_issue(runtime, iid, api_actions=[ApiAction("req-send", "send", actor="Rita Reviewer")])
        again = converge_issue(runtime, iid)

    assert sent.final_state == "sent" and again.effects == []
    ((recipients, mail),) = smtp.inbox.mails
    assert recipients == ["erika@example.org"] and mail["Subject"] == "Application: Platform Engineer"
    (receipt,) = [m for m in read_snapshot(gitlab, iid).bot_markers if m.kind == "application_sent"]
    assert receipt.source == "api:req-send"


def application_notes(gitlab, iid):
    return [n.body for n in read_snapshot(gitlab, iid).notes if "📨" in n.body]


def test_a_failed_mail_is_recorded_and_the_next_try_edits_the_same_note(world, tmp_path):
    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port)
        transport = Smtp(runtime.settings.notify.channels.email.smtp)
        smtp.inbox.refuse_with = "451 4.3.0 Try again later"
        failed = send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), "note:3", transport=transport)
        (note,) = application_notes(gitlab, iid)
        smtp.inbox.refuse_with = None
        sent = send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), "note:3", transport=transport)

    assert failed.status == "failed" and "451" in failed.detail
    assert "could not be sent" in note and "451" in note
    assert sent.status == "sent" and len(smtp.inbox.mails) == 1
    (receipt,) = application_notes(gitlab, iid)   # the same note, now the receipt
    assert "Application sent to" in receipt and "may repeat" not in receipt


class DiesAfterSending:
    """The process dies between the mail leaving and the receipt being written."""

    def __init__(self, transport):
        self.transport = transport

    def deliver(self, mail):
        self.transport.deliver(mail)
        raise SystemExit("killed")


def test_a_mail_that_may_have_gone_out_before_a_crash_is_sent_again_and_the_record_says_so(world, tmp_path):
    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port)
        transport = Smtp(runtime.settings.notify.channels.email.smtp)
        with pytest.raises(SystemExit):
            send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), "note:4",
                             transport=DiesAfterSending(transport))
        again = send_application(runtime.settings, gitlab, read_snapshot(gitlab, iid), "note:4", transport=transport)

    assert again.status == "sent" and len(smtp.inbox.mails) == 2
    (receipt,) = application_notes(gitlab, iid)
    assert "Application sent to" in receipt and "may repeat an earlier attempt" in receipt
    (marker,) = [m for m in read_snapshot(gitlab, iid).bot_markers if m.kind == "application_sent"]
    assert marker.data["possible_repeat"] is True


def test_the_command_says_what_failed_in_one_line(world, tmp_path, monkeypatch, capsys):
    import logging

    import yaml

    from bot.cli import main
    from bot.converge import ApiAction, converge_issue

    with FakeSmtp() as smtp:
        runtime, gitlab, iid = staged_runtime(world, tmp_path, smtp.port)
        converge_issue(runtime, iid, api_actions=[ApiAction("req-ok", "approve", actor="Rita Reviewer")])
        smtp.inbox.refuse_with = "550 5.1.1 No such user"
        converge_issue(runtime, iid, api_actions=[ApiAction("req-go", "send", actor="Rita Reviewer")])
        config = tmp_path / "vorhoelle.yml"
        config.write_text(yaml.safe_dump({
            "notify": {"channels": {"email": runtime.settings.notify.channels.email.model_dump(mode="json")}},
            "staging": {"attachments": {"cv": str(tmp_path / "cv.pdf")}},
        }))
        monkeypatch.setenv("VORHOELLE_CONFIG", str(config))
        monkeypatch.setenv("VORHOELLE_GITLAB_URL", world.url)
        monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", world.users["bot"]["token"])
        monkeypatch.setenv("VORHOELLE_PROJECT", str(world.project_id))
        monkeypatch.setenv("VORHOELLE_SMTP_PASSWORD", PASSWORD)
        root = logging.getLogger()
        monkeypatch.setattr(root, "handlers", list(root.handlers))
        monkeypatch.chdir(tmp_path)

        assert main(["notify", "application", str(iid)]) == 1
        assert main(["notify", "application", "999"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("failed: SMTP refused every recipient: [550]")
    assert "vorhoelle notify application: GitLab answered 404" in err and "Traceback" not in err
    assert smtp.inbox.mails == []
