"""Which application a mail answers, most certain first; pure, no I/O.

1. `In-Reply-To` / `References` name the message id the bot sent the application with (the
   `application_sent` marker) — for a bounce, the returned headers do.
2. The sender's address is the match's contact address.
3. The sender's domain is the company's (the contact address's or the posting URL's) and the
   subject or text names the job title — only when exactly one open application fits.
Anything less certain matches nothing: `vorhoelle replies --unmatched` lists it for a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.replies.mail import Mail

# Hosts that say nothing about the company: a mail from gmail.com is no sign of any employer.
_SHARED = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "gmx.de", "gmx.net", "web.de", "t-online.de", "posteo.de", "mailbox.org", "proton.me", "protonmail.com",
    "linkedin.com", "xing.com", "indeed.com", "stepstone.de", "freelancermap.de", "malt.com",
})


@dataclass(frozen=True)
class Application:
    """An open application the bot sent or recorded as sent, as its issue shows it."""

    iid: int
    title: str
    contact: str | None
    posting_url: str | None
    sent_ids: frozenset[str]  # Message-IDs the application went out with
    recorded: frozenset[str]  # Message-IDs of mail already recorded on the issue

    @property
    def domains(self) -> frozenset[str]:
        found = set()
        if self.contact and "@" in self.contact:
            found.add(self.contact.rpartition("@")[2].lower())
        host = (urlsplit(self.posting_url).hostname or "") if self.posting_url else ""
        if host:
            found.add(host.lower().removeprefix("www."))
        return frozenset(d for d in found if d not in _SHARED)


@dataclass(frozen=True)
class Found:
    application: Application
    how: str  # "thread" | "contact" | "company"


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _same_company(domain: str, application: Application) -> bool:
    return any(domain == d or domain.endswith("." + d) or d.endswith("." + domain) for d in application.domains)


def _names_title(mail: Mail, application: Application) -> bool:
    title = _words(application.title)
    return bool(title) and (title in _words(mail.subject) or title in _words(mail.text))


def find_application(mail: Mail, applications: Sequence[Application]) -> Found | None:
    """The one application `mail` answers, or None when no rule is certain enough."""
    referred = set(mail.bounced or mail.refers_to)
    by_thread = [a for a in applications if a.sent_ids & referred]
    if len(by_thread) == 1:
        return Found(by_thread[0], "thread")
    if mail.automatic == "bounce":
        return None  # a bounce names what it returns, or it is nobody's
    by_contact = [a for a in applications if a.contact and a.contact.lower() == mail.sender_address]
    if len(by_contact) > 1:  # one recruiter, several applications: the title tells them apart
        by_contact = [a for a in by_contact if _names_title(mail, a)]
    if len(by_contact) == 1:
        return Found(by_contact[0], "contact")
    by_company = [a for a in applications if _same_company(mail.domain, a) and _names_title(mail, a)]
    if len(by_company) == 1:
        return Found(by_company[0], "company")
    return None
