"""E-mail through the Gmail API (local fake) and SMTP (a real aiosmtpd server)."""

from __future__ import annotations

import pytest
from google.oauth2.credentials import Credentials

from bot.notify.channel import ChannelError
from bot.notify.email_gmail import Gmail
from bot.notify.email_smtp import Smtp
from bot.notify.mail import Email
from bot.notify.message import Message
from bot.config.settings import EmailChannel, SmtpTransport
from tests.fakes.gmail import TOKEN, FakeGmail, google_error
from tests.fakes.smtp import PASSWORD, USER, FakeSmtp, SelfSigned
from tests.notify.items import item, summary

SENDER, TO = "jobs-bot@example.com", ["reviewer@example.org"]


@pytest.fixture
def gmail():
    with FakeGmail() as fake:
        yield fake


def gmail_channel(fake: FakeGmail, token: str = TOKEN) -> Email:
    settings = EmailChannel(
        enabled=True, transport="gmail", sender=SENDER, to=TO,
        gmail={"token_file": "unused.json", "api_endpoint": fake.api_endpoint},
    )
    return Email(Gmail(settings, credentials=Credentials(token=token)), sender=SENDER, to=TO)


def test_gmail_receives_html_with_text_alternative(gmail):
    message_id = gmail_channel(gmail).send(summary(5))

    (mail,) = gmail.mails()
    assert message_id == "18c0ffee0001"
    assert mail["Subject"] == "[Vorhölle] 5 new job matches — top: 85% Cloud Architect 5"
    assert mail["From"] == SENDER and mail["To"] == "reviewer@example.org"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "- New job match: 85% Cloud Architect 5 — Nordlicht Consulting GmbH, Berlin" in text
    assert '<a href="https://gitlab.example.com/acme/jobs/-/issues/5">Cloud Architect 5</a>' in html
    assert "Review pending matches" in html


def test_hostile_title_renders_inert_in_html(gmail):
    gmail_channel(gmail).send(Message(items=(item(title='<script>alert(1)</script><a href="javascript:x">'),)))

    html = gmail.mails()[0].get_body(("html",)).get_content()
    assert "<script>" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_gmail_errors_are_told_apart(gmail):
    with pytest.raises(ChannelError, match="credentials rejected") as refused:
        gmail_channel(gmail, token="expired").send(summary(1))
    assert refused.value.permanent

    gmail.fail_next(1, google_error(429, "rateLimitExceeded", "Too many requests"))
    with pytest.raises(ChannelError, match="429") as limited:
        gmail_channel(gmail).send(summary(1))
    assert not limited.value.permanent


def test_gmail_credentials_missing_are_said_at_start_unreadable_at_the_first_send(tmp_path):
    def settings(token_file):
        return EmailChannel(enabled=True, transport="gmail", sender=SENDER, to=TO, gmail={"token_file": str(token_file)})

    with pytest.raises(FileNotFoundError, match="no Gmail credentials file"):
        Gmail(settings(tmp_path / "missing.json"))
    (tmp_path / "token.json").write_text("{}")
    channel = Email(Gmail(settings(tmp_path / "token.json")), sender=SENDER, to=TO)
    with pytest.raises(ChannelError, match="credentials cannot be loaded") as unreadable:
        channel.send(summary(1))
    assert unreadable.value.permanent


def smtp_channel(port: int, password: str = PASSWORD) -> Email:
    settings = SmtpTransport(host="127.0.0.1", port=port, starttls=False, username=USER, password=password, timeout_seconds=5)
    return Email(Smtp(settings), sender=SENDER, to=TO)


def test_smtp_delivers_after_login():
    with FakeSmtp() as server:
        message_id = smtp_channel(server.port).send(summary(2))

    ((recipients, mail),) = server.inbox.mails
    assert recipients == TO
    assert mail["Message-ID"] == message_id
    assert mail["Subject"] == "[Vorhölle] 2 new job matches — top: 82% Cloud Architect 2"
    assert "Cloud Architect 1" in mail.get_body(("plain",)).get_content()


def test_smtp_refusals_are_permanent_or_temporary_as_smtp_says():
    with FakeSmtp() as server:
        with pytest.raises(ChannelError, match="login refused") as login:
            smtp_channel(server.port, password="wrong").send(summary(1))
        assert login.value.permanent

        server.inbox.refuse_with = "550 5.1.1 No such user"
        with pytest.raises(ChannelError, match="550") as unknown:
            smtp_channel(server.port).send(summary(1))
        assert unknown.value.permanent

        server.inbox.refuse_with = "451 4.3.0 Try again later"
        with pytest.raises(ChannelError, match="451") as busy:
            smtp_channel(server.port).send(summary(1))
        assert not busy.value.permanent
    assert server.inbox.mails == []


def starttls_channel(port: int, tls_context=None) -> Email:
    settings = SmtpTransport(host="127.0.0.1", port=port, starttls=True, username=USER, password=PASSWORD, timeout_seconds=5)
    return Email(Smtp(settings, tls_context=tls_context), sender=SENDER, to=TO)


@pytest.fixture
def certificate(tmp_path) -> SelfSigned:
    return SelfSigned.create(tmp_path)


def test_smtp_starttls_with_a_trusted_certificate(certificate):
    with FakeSmtp(tls=certificate) as server:
        message_id = starttls_channel(server.port, certificate.client_context()).send(summary(3))

    ((recipients, mail),) = server.inbox.mails
    assert server.inbox.starttls == 1 and server.inbox.encrypted == [True]
    assert recipients == TO and mail["Message-ID"] == message_id
    assert mail["Subject"] == "[Vorhölle] 3 new job matches — top: 83% Cloud Architect 3"
    assert "- New job match: 83% Cloud Architect 3 — Nordlicht Consulting GmbH, Berlin" in mail.get_body(("plain",)).get_content()


def test_smtp_starttls_trusts_the_ca_file_named_by_ssl_cert_file(certificate, monkeypatch):
    """Without an explicit context the system's trust store is used; SSL_CERT_FILE points it at a CA file."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_file))
    with FakeSmtp(tls=certificate) as server:
        starttls_channel(server.port).send(summary(1))
    assert server.inbox.encrypted == [True]


def test_smtp_starttls_refuses_an_untrusted_certificate_for_good(certificate, tmp_path):
    (tmp_path / "stranger").mkdir()
    stranger = SelfSigned.create(tmp_path / "stranger")
    with FakeSmtp(tls=certificate) as server:
        with pytest.raises(ChannelError, match="certificate is not trusted.*SSL_CERT_FILE") as refused:
            starttls_channel(server.port, stranger.client_context()).send(summary(1))
    assert refused.value.permanent
    assert server.inbox.mails == []


def test_smtp_refusing_one_recipient_still_delivers_to_the_others_once():
    """A retry would mail the accepted recipients again: the refusal is told, not retried."""
    with FakeSmtp() as server:
        server.inbox.refuse_addresses["gone@example.org"] = "550 5.1.1 No such user"
        channel = smtp_channel(server.port)
        channel.to.append("gone@example.org")
        receipt = channel.send(summary(1))

    ((recipients, mail),) = server.inbox.mails
    assert recipients == TO
    assert receipt.startswith(mail["Message-ID"]) and "gone@example.org: 550" in receipt
