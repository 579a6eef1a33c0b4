"""`vorhoelle replies` as a process, and the served bot reading the mailbox on its timer."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.snapshot import read_snapshot
from tests.fakes.smtp import FakeSmtp
from tests.replies import mails
from tests.replies.applications import mailing_runtime, send
from tests.replies.conftest import imap_settings
from tests.support.botserver import API_TOKEN, ready, run_vorhoelle, running_bot, served_bot_settings
from tests.support.dovecot import PASSWORD
from tests.support.waiting import wait_until


def imap_env(dovecot) -> dict[str, str]:
    """The mailbox configured through the environment, the password in its own variable."""
    return {"VORHOELLE_REPLIES__TRANSPORT": "imap", "VORHOELLE_REPLIES__IMAP__HOST": "127.0.0.1",
            "VORHOELLE_REPLIES__IMAP__PORT": str(dovecot.port),
            "VORHOELLE_REPLIES__IMAP__USERNAME": "jobs@example.org",
            "VORHOELLE_REPLIES__IMAP__CA_FILE": str(dovecot.ca_file), "VORHOELLE_IMAP_PASSWORD": PASSWORD}


def test_replies_lists_records_and_attaches(world, dovecot, tmp_path):
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port)
        sent = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG", contact="erika@example.org",
                    url=f"https://blauwal.example/{world.project_id}")
    reply, newsletter = mails.german_reply(sent.message_id), mails.unrelated()
    for mail in (reply, newsletter):
        dovecot.deliver(bytes(mail))
    settings, env = served_bot_settings(world), imap_env(dovecot)
    notes_before = len(read_snapshot(runtime.gitlab, sent.iid).notes)

    dry = run_vorhoelle(settings, "replies", "--dry-run", cwd=tmp_path, env=env)
    unmatched = run_vorhoelle(settings, "replies", "--unmatched", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"would_record #{sent.iid} (thread)" in dry.stdout and "1 would record, 1 unmatched" in dry.stdout
    assert "news@jobs-digest.example" in unmatched.stdout and "erika" not in unmatched.stdout
    assert len(read_snapshot(runtime.gitlab, sent.iid).notes) == notes_before

    recorded = run_vorhoelle(settings, "replies", cwd=tmp_path, env=env)
    attached = run_vorhoelle(settings, "replies", "attach", newsletter["Message-ID"], str(sent.iid), cwd=tmp_path, env=env)
    again = run_vorhoelle(settings, "replies", cwd=tmp_path, env=env)
    assert "1 recorded, 1 unmatched" in recorded.stdout, recorded.stdout + recorded.stderr
    assert attached.returncode == 0 and f"  recorded     #{sent.iid} (attached)" in attached.stdout
    assert "2 already" in again.stdout and "recorded" not in again.stdout.replace("already", "")
    answers = [n for n in read_snapshot(runtime.gitlab, sent.iid).notes if "Reply received" in n.body]
    assert len(answers) == 2


def test_replies_says_in_one_line_what_is_wrong(world, dovecot, tmp_path):
    settings = served_bot_settings(world)
    wrong = run_vorhoelle(settings, "replies", cwd=tmp_path, env={**imap_env(dovecot), "VORHOELLE_IMAP_PASSWORD": "nope"})
    missing = run_vorhoelle(settings, "replies", "attach", "<nobody@example.org>", "1", cwd=tmp_path, env=imap_env(dovecot))
    assert wrong.returncode == 1 and wrong.stderr.strip().endswith("login as jobs@example.org refused")
    assert missing.returncode == 1 and "no mail with Message-ID <nobody@example.org>" in missing.stderr
    assert "Traceback" not in wrong.stderr + missing.stderr


def test_the_served_bot_records_a_reply_within_one_pass_and_tells_the_reviewer(world, dovecot, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port, replies=imap_settings(dovecot), outbox=outbox, api_token=API_TOKEN)
        sent = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG", contact="erika@example.org",
                    url=f"https://blauwal.example/{world.project_id}")
    settings = runtime.settings
    with running_bot(settings) as bot:
        replies = bot.app.state.replies
        wait_until(lambda: replies.passes >= 1, message="the first mailbox pass")
        dovecot.deliver(bytes(mails.german_reply(sent.message_id)))
        dovecot.deliver(bytes(mails.bounce(sent.message_id, "erika@example.org")))
        dovecot.deliver(bytes(mails.invitation(sent.message_id, datetime(2026, 12, 10, 13, 0, tzinfo=timezone.utc),
                                               sender="Erika Example <erika@example.org>")))
        replies.wake()
        wait_until(lambda: replies.passes >= 2, message="the pass after the reply arrived")
        snapshot = read_snapshot(runtime.gitlab, sent.iid)
        assert any("Reply received" in n.body and "vielen Dank" in n.body for n in snapshot.notes)
        assert any("application mail bounced" in n.body for n in snapshot.notes)
        assert "job-match/interview" in snapshot.labels and snapshot.due_date == "2026-12-10"
        replies.wake()
        wait_until(lambda: replies.passes >= 3, message="one more pass")
        assert len(read_snapshot(runtime.gitlab, sent.iid).notes) == len(snapshot.notes)

        def told() -> list[dict]:
            lines = outbox.read_text().splitlines() if outbox.exists() else []
            return [entry for entry in map(json.loads, lines) if "interview invitation" in entry["text"]]

        def bounced() -> list[dict]:
            lines = outbox.read_text().splitlines() if outbox.exists() else []
            return [entry for entry in map(json.loads, lines) if "bounced" in entry["subject"]]

        (message,) = wait_until(told, message="the reviewer's message about the reply")
        wait_until(bounced, message="the reviewer's message about the bounce")
        health = ready(bot.url).json()["replies"]
    assert "/interview <when>" in message["text"]
    assert health["transport"] == "imap" and health["passes"] >= 3 and health["last_error"] is None


def test_a_mailbox_the_bot_cannot_open_is_said_in_health_and_the_bot_serves_on(world):
    settings = served_bot_settings(world, replies={"transport": "gmail"})   # no Gmail credentials set
    with running_bot(settings) as bot:
        replies = bot.app.state.replies
        wait_until(lambda: replies.last_error, message="the first pass to fail")
        health = ready(bot.url)
    assert health.status_code == 200
    assert "token_file or service_account_file" in health.json()["replies"]["last_error"]
