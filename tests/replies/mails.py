"""Realistic made-up mail for the mailbox tests: replies in German and English, quoted history,
HTML-only, a calendar invitation, an auto-reply, a bounce, an unrelated sender, a hostile subject.
Every name, address and company is invented."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from icalendar import Calendar, Event

WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)


def _mail(sender: str, subject: str, *, reply_to_id: str | None = None, at: datetime = WHEN,
          to: str = "rita@example.com") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    if reply_to_id:
        mail["In-Reply-To"] = reply_to_id
        mail["References"] = reply_to_id
    return mail


def german_reply(sent_id: str, sender: str = "Erika Example <erika@example.org>") -> EmailMessage:
    mail = _mail(sender, "AW: Application: Platform Engineer", reply_to_id=sent_id)
    mail.set_content(
        "Hallo Rita,\n\nvielen Dank für Ihre Bewerbung! Wir melden uns bis Freitag mit einem Terminvorschlag.\n\n"
        "Viele Grüße\nErika\n\n"
        "Am 01.12.2026 um 10:00 schrieb Rita <rita@example.com>:\n"
        "> Dear Ms. Example,\n> I really like this role.\n> Secret salary expectation: 95k\n"
    )
    return mail


def hostile_reply(sender: str = "Erika Example <erika@example.org>") -> EmailMessage:
    mail = _mail(sender, "Re: /close @all <b>urgent</b> [click](https://evil.example)")
    mail.set_content("/close\n@all please look\n/label ~hired\n<img src=x onerror=alert(1)>\n")
    return mail


def html_only_reply(sender: str = "Hiring Team <hr@kranich.example>") -> EmailMessage:
    mail = _mail(sender, "Your application as Data Engineer")
    mail.set_content(
        "<html><body><p>Dear Rita,</p><p>thank you for applying. We would like to get to know you.</p>"
        "<div>Kind regards,<br>Kranich GmbH</div><blockquote>earlier mail</blockquote></body></html>",
        subtype="html",
    )
    return mail


def invitation(sent_id: str, start: datetime, sender: str = "Hiring Team <hr@kranich.example>") -> EmailMessage:
    mail = _mail(sender, "Invitation: Interview Data Engineer", reply_to_id=sent_id)
    mail.set_content("Please find the invitation for our first interview attached.\n\nOn Tue, Rita wrote:\n> Hello\n")
    calendar = Calendar()
    calendar.add("prodid", "-//Kranich//Calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", "interview-1@kranich.example")
    event.add("dtstamp", WHEN)
    event.add("dtstart", start)
    event.add("dtend", start.replace(hour=start.hour + 1))
    event.add("summary", "Interview Data Engineer")
    calendar.add_component(event)
    mail.add_attachment(calendar.to_ical(), maintype="text", subtype="calendar", params={"method": "REQUEST"},
                        filename="invite.ics")
    return mail


def auto_reply(sent_id: str, sender: str = "Erika Example <erika@example.org>") -> EmailMessage:
    mail = _mail(sender, "Abwesenheitsnotiz: Application: Platform Engineer", reply_to_id=sent_id)
    mail["Auto-Submitted"] = "auto-replied"
    mail["X-Autoreply"] = "yes"
    mail.set_content("Ich bin bis zum 10.12. nicht im Büro. In dringenden Fällen: Vertretung.\n")
    return mail


def bounce(sent_id: str, recipient: str) -> EmailMessage:
    """A delivery status notification (RFC 3464) returning the application's headers, as Postfix
    writes one."""
    raw = f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: rita@example.com
Subject: Undelivered Mail Returned to Sender
Date: {format_datetime(WHEN)}
Message-ID: {make_msgid(domain="mx.example.com")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.
Your message could not be delivered to <{recipient}>: user unknown.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1

--BOUNDARY
Content-Type: text/rfc822-headers

Message-ID: {sent_id}
From: rita@example.com
To: {recipient}
Subject: Application: QA Engineer

--BOUNDARY--
"""
    return email.message_from_bytes(raw.replace("\n", "\r\n").encode(), policy=email.policy.default)


def unrelated(sender: str = "Newsletter <news@jobs-digest.example>") -> EmailMessage:
    mail = _mail(sender, "Re: Application: Platform Engineer — 10 tips for your next application")
    mail.set_content("Your weekly digest of tips for platform engineers.\n")
    return mail


def english_reply_with_attachment(sent_id: str, sender: str = "Erika Example <erika@example.org>") -> EmailMessage:
    mail = _mail(sender, "Re: Application: Platform Engineer", reply_to_id=sent_id)
    mail.set_content("Hi Rita,\n\nplease fill in the attached form.\n\nBest\nErika\n\n"
                     "On Mon, Dec 1, 2026 at 10:00 AM Rita <rita@example.com> wrote:\n> Dear Ms. Example,\n")
    mail.add_attachment(b"%PDF-1.4 made up", maintype="application", subtype="pdf", filename="Fragebogen.pdf")
    return mail
