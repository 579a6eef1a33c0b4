"""The mailbox through the Gmail API, against a local server speaking its wire format."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from google.oauth2.credentials import Credentials

from bot.config.settings import EmailChannel
from bot.replies.gmail import GmailMailbox
from bot.replies.run import attach, run_pass
from bot.replies.source import MailboxError
from bot.snapshot import read_snapshot
from tests.fakes.gmail import TOKEN, FakeGmail
from tests.fakes.smtp import FakeSmtp
from tests.replies import mails
from tests.replies.applications import mailing_runtime, send

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)
ARRIVED = int(datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc).timestamp())


def clock() -> datetime:
    return NOW


def mailbox(fake: FakeGmail, token: str = TOKEN) -> GmailMailbox:
    settings = EmailChannel(gmail={"token_file": "unused.json", "api_endpoint": fake.api_endpoint})
    return GmailMailbox(settings, credentials=Credentials(token=token))


def reads(fake: FakeGmail) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in fake.requests if "/messages/" in r.path]


def test_gmail_answers_are_recorded_and_later_passes_read_only_the_history(world):
    with FakeSmtp() as smtp:
        runtime = mailing_runtime(world, smtp.port)
        sent = send(runtime, smtp, title="Platform Engineer", company="Blauwal AG", contact="erika@example.org",
                    url=f"https://blauwal.example/{world.project_id}")
    with FakeGmail(page_size=2) as fake:
        fake.deliver(bytes(mails.german_reply(sent.message_id)), at_epoch=ARRIVED)
        fake.deliver(bytes(mails.unrelated()), at_epoch=ARRIVED)
        fake.deliver(bytes(mails.hostile_reply()), at_epoch=ARRIVED)
        fake.deliver(b"From: rita@example.com\r\nSubject: my own\r\n\r\nsent\r\n", at_epoch=ARRIVED, labels=("SENT",))
        fake.deliver(bytes(mails.auto_reply(sent.message_id)), at_epoch=ARRIVED - 30 * 86400)  # outside the window
        reader = mailbox(fake)

        first = run_pass(runtime, reader, now=clock)
        assert len(first.of("recorded")) == 2 and len(first.of("unmatched")) == 1 and len(reads(fake)) == 3

        fresh = fake.deliver(bytes(mails.english_reply_with_attachment(sent.message_id)), at_epoch=ARRIVED + 60)
        second = run_pass(runtime, reader, now=clock)
        assert [s.status for s in second.seen] == ["recorded"] and reads(fake)[3:] == [fresh]
        assert any(r.path.endswith("/history") for r in fake.requests)

        fake.oldest_history = 10_000     # Gmail no longer keeps that history: the window again
        third = run_pass(runtime, reader, now=clock)
        assert third.of("recorded") == [] and len(third.of("already")) == 3

        newsletter = first.of("unmatched")[0].mail.message_id
        attached = attach(runtime, reader, newsletter, sent.iid)
    assert attached.status == "recorded"
    notes = [n.body for n in read_snapshot(runtime.gitlab, sent.iid).notes if "Reply received" in n.body]
    assert len(notes) == 4


def test_gmail_that_refuses_the_token_is_one_line():
    with FakeGmail() as fake:
        with pytest.raises(MailboxError, match="Gmail credentials rejected"):
            mailbox(fake, token="expired").read_since(NOW)


def test_gmail_without_credentials_says_which_setting_is_missing():
    with pytest.raises(MailboxError, match="token_file or service_account_file"):
        GmailMailbox(EmailChannel())
