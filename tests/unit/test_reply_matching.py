"""Which application a mail answers: most certain rule first, nothing when in doubt."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.replies.mail import Mail
from bot.replies.match import Application, find_application


def application(iid: int, title: str, contact: str | None, url: str | None = None, sent: str = "") -> Application:
    return Application(iid, title, contact, url, frozenset({sent} if sent else ()), frozenset())


def mail(sender: str, subject: str = "", text: str = "", refers_to: tuple[str, ...] = (),
         automatic: str | None = None, bounced: tuple[str, ...] = ()) -> Mail:
    return Mail(message_id="<m@x>", sender_name="", sender_address=sender, at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                subject=subject, refers_to=refers_to, text=text, attachments=(), invitation=None, automatic=automatic,
                bounced=bounced)


PLATFORM = application(1, "Platform Engineer", "erika@blauwal.example", "https://jobs.blauwal.example/1", "<a1@me>")
DATA = application(2, "Data Engineer", "hr@kranich.example", "https://www.kranich.example/jobs/2", "<a2@me>")
OTHER_DATA = application(3, "Data Engineer", "jobs@gmail.com", None, "<a3@me>")


def test_the_thread_wins_over_everything_else():
    found = find_application(mail("hr@kranich.example", "Data Engineer", refers_to=("<a1@me>",)), [PLATFORM, DATA])
    assert (found.application.iid, found.how) == (1, "thread")


def test_the_contact_address_matches_without_a_thread():
    found = find_application(mail("HR@kranich.example".lower(), "Hello"), [PLATFORM, DATA])
    assert (found.application.iid, found.how) == (2, "contact")


def test_the_company_domain_needs_the_job_title_too():
    colleague = mail("boss@kranich.example", "Ihre Bewerbung als Data Engineer")
    silent = mail("boss@kranich.example", "Hallo")
    assert find_application(colleague, [PLATFORM, DATA]).how == "company"
    assert find_application(silent, [PLATFORM, DATA]) is None


def test_a_subdomain_of_the_posting_counts_as_the_company():
    found = find_application(mail("talent@blauwal.example", "Platform Engineer role"), [PLATFORM, DATA])
    assert found.application.iid == 1 and found.how == "company"


def test_two_fitting_applications_are_no_match():
    twin = application(4, "Data Engineer", "other@kranich.example", None, "<a4@me>")
    assert find_application(mail("boss@kranich.example", "Data Engineer"), [DATA, twin]) is None


def test_a_shared_mail_host_says_nothing_about_the_company():
    assert find_application(mail("stranger@gmail.com", "Data Engineer"), [OTHER_DATA]) is None


def test_an_unrelated_sender_with_a_similar_subject_matches_nothing():
    assert find_application(mail("news@digest.example", "Re: Application: Platform Engineer"), [PLATFORM, DATA]) is None


def test_one_recruiter_for_two_applications_is_told_apart_by_the_title():
    platform = application(5, "Platform Engineer", "anna@agency.example")
    data = application(6, "Data Engineer", "anna@agency.example")
    assert find_application(mail("anna@agency.example", "Data Engineer: next steps"), [platform, data]).application.iid == 6
    assert find_application(mail("anna@agency.example", "Next steps"), [platform, data]) is None


def test_a_bounce_matches_only_the_mail_it_returns():
    bounce = mail("mailer-daemon@mx.example", "Undelivered", automatic="bounce", bounced=("<a2@me>",))
    stray = mail("mailer-daemon@mx.example", "Undelivered", automatic="bounce", bounced=("<zzz@me>",))
    assert find_application(bounce, [PLATFORM, DATA]).application.iid == 2
    assert find_application(stray, [PLATFORM, DATA]) is None


def test_a_message_id_longer_than_any_real_one_is_kept_as_its_digest():
    from bot.replies.mail import message_ids

    (kept,) = message_ids("<" + "x" * 5000 + "@evil.example>")
    assert kept.endswith("@long-id>") and len(kept) < 100
    assert message_ids("<a@b> <c@d>") == ("<a@b>", "<c@d>")


def test_automatic_mail_is_told_by_its_headers_and_bulk_mail_is_not():
    from bot.replies.mail import read_mail

    def headers(*lines: str) -> bytes:
        return "\r\n".join(["From: hr@kranich.example", "Subject: x", "Message-ID: <h@k>", *lines, "", "text"]).encode()

    assert read_mail(headers("Auto-Submitted: auto-replied"), fallback_id="k").automatic == "automatic"
    assert read_mail(headers("X-Autoreply: yes"), fallback_id="k").automatic == "automatic"
    assert read_mail(headers("Auto-Submitted: no"), fallback_id="k").automatic is None
    assert read_mail(headers("Precedence: bulk"), fallback_id="k").automatic is None
