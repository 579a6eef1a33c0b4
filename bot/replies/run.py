"""One pass over the mailbox: read what is new, match each mail to its application, and hand
the matched ones to the converge of their issue (the only writer), as `mail:<Message-ID>`
sources recorded once each.

What was recorded is read back from GitLab (the sources of the bot's markers), so a restart, a
new container or the scheduled pipeline records no mail twice. Mail that matches nothing is
left alone and listed (`vorhoelle replies --unmatched`); a person attaches it by hand.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot import escape
from bot.lifecycle import AFTER_SENT
from bot.markers import source_id
from bot.notify.message import match_title
from bot.notify.send_application import SENT
from bot.replies.mail import Mail, message_ids, read_mail
from bot.replies.match import Application, find_application
from bot.replies.source import Mailbox, MailboxError
from bot.snapshot import IssueSnapshot, read_snapshot
from bot.staging.parts import read_parts
from bot.workflow import MailAnswer, recorded_state

log = logging.getLogger(__name__)
MAIL = "mail"
_INTERVIEW = re.compile(r"interview|vorstellungsgespr|kennenlern|termin|gespräch|call\b", re.I)
_OFFER = re.compile(r"\boffer\b|angebot|zusage|vertrag", re.I)
_NO = re.compile(r"unfortunately|regret|not (?:to )?(?:proceed|move forward)|absage|leider|anderen? (?:kandidat|bewerber)", re.I)


@dataclass(frozen=True)
class Seen:
    """One mail of the pass and what became of it."""

    mail: Mail
    status: str  # recorded | would_record | already | unmatched | own
    iid: int | None = None
    how: str | None = None  # thread | contact | company | attached


@dataclass
class PassReport:
    seen: list[Seen] = field(default_factory=list)

    def of(self, status: str) -> list[Seen]:
        return [s for s in self.seen if s.status == status]


def open_states(settings: Any) -> list[str]:
    """The states of an application still waiting for news: sent and after, not closed."""
    return [s for s in ("sent", *sorted(AFTER_SENT)) if s in settings.workflow.states
            and s not in settings.workflow.lifecycle.close]


def application_of(snapshot: IssueSnapshot, settings: Any) -> Application:
    """What of an issue tells its mail apart: title, contact, posting, the ids it went out with."""
    own = snapshot.author.id == snapshot.bot_user.id
    match = snapshot.match_marker
    posting = match.source.removeprefix("match:") if match else ""
    sent: set[str] = set()
    recorded: set[str] = set()
    for marker in snapshot.bot_markers:
        if marker.kind == SENT:
            sent.update(message_ids(str(marker.data.get("message_id", ""))))
            sent.update(message_ids(str(marker.data.get("mail_id", ""))))
        if marker.source.startswith(f"{MAIL}:"):
            recorded.add(marker.source.removeprefix(f"{MAIL}:"))
    return Application(
        iid=snapshot.iid,
        title=match_title(snapshot.title, settings.staging.title_template),
        contact=read_parts(snapshot.description).recipient if own else None,
        posting_url=posting if posting.startswith(("http://", "https://")) else None,
        sent_ids=frozenset(sent),
        recorded=frozenset(recorded),
    )


def read_applications(gitlab: Any, settings: Any) -> list[Application]:
    """Every open application in a state that waits for news, read back from GitLab."""
    wanted = open_states(settings)
    iids = sorted({
        int(issue["iid"])
        for state in wanted
        for issue in gitlab.iter_issues(labels=[settings.workflow.states[state].label], state="opened")
    })
    found = []
    for iid in iids:
        snapshot = read_snapshot(gitlab, iid)
        if recorded_state(snapshot, settings.workflow) in wanted:
            found.append(application_of(snapshot, settings))
    return found


def recorded_on_closed(gitlab: Any, settings: Any, since: datetime) -> set[str]:
    """Message-IDs recorded on applications closed since `since` (hired, turned down, …): their
    mail is done with, not unmatched."""
    closed = gitlab.iter_issues(labels=[settings.workflow.marker_label], state="closed",
                                updated_after=since.isoformat())
    return {i for issue in closed for i in application_of(read_snapshot(gitlab, int(issue["iid"])), settings).recorded}


def suggestion(mail: Mail) -> str | None:
    """A command the words of the mail hint at; a hint for the reviewer, never acted on."""
    words = f"{mail.subject}\n{mail.text}"
    if _NO.search(words):
        return "sounds like a rejection: /turned-down <reason> to record it"
    if _OFFER.search(words):
        return "sounds like an offer: /offer <terms> to record it"
    if _INTERVIEW.search(words):
        return "sounds like an interview invitation: /interview <when> to record it"
    return None


def answer_of(mail: Mail, settings: Any) -> MailAnswer:
    """The mail as the workflow records it: the note's details, the summary, an invitation."""
    replies = settings.replies
    zone = settings.workflow.lifecycle.timezone
    details: dict[str, Any] = {
        "sender": mail.sender,
        "date": mail.at.astimezone(ZoneInfo(zone)).strftime(f"%a %d %b %Y, %H:%M ({zone})"),
        "subject": mail.subject or "(no subject)",
    }
    if replies.record_body:
        excerpt = escape.cut(mail.text, replies.max_chars) if replies.max_chars else ""
        details.update(excerpt_lines=excerpt.splitlines(), attachments=list(mail.attachments))
    when = mail.invitation.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if mail.invitation else None
    hint = None if when or mail.automatic else suggestion(mail)
    summary = " — ".join(filter(None, [mail.subject or "(no subject)", hint]))
    return MailAnswer(
        message_id=mail.message_id, sender=mail.sender, at=mail.at, summary=summary, round_when=when,
        noted=mail.automatic, details=details,
    )


def _read(raw_mails: Sequence[Any]) -> list[Mail]:
    mails = []
    for raw in raw_mails:
        try:
            mails.append(read_mail(raw.raw, fallback_id=raw.key))
        except Exception:  # one unreadable mail must not stop the pass
            log.exception("mail %s could not be read; left alone", raw.key)
    return mails


def run_pass(
    runtime: Any, mailbox: Mailbox, *, dry_run: bool = False, now: Callable[[], datetime] | None = None,
) -> PassReport:
    """Read the mailbox's new mail and record each answer on its application's issue."""
    from bot.converge import converge_issue

    settings = runtime.settings
    moment = (now or (lambda: datetime.now(timezone.utc)))()
    since = moment - timedelta(days=settings.replies.look_back_days)
    mails = _read(mailbox.read_since(since))
    report = PassReport()
    if not mails:  # the usual pass on the timer: GitLab need not be read at all
        return report
    applications = read_applications(runtime.gitlab, settings)
    recorded = {i for a in applications for i in a.recorded} | recorded_on_closed(runtime.gitlab, settings, since)
    ours = {i for a in applications for i in a.sent_ids}
    owed: dict[int, list[tuple[Mail, str]]] = {}
    for mail in mails:
        if mail.message_id in ours:
            report.seen.append(Seen(mail, "own"))
            continue
        if mail.message_id in recorded:
            report.seen.append(Seen(mail, "already"))
            continue
        found = find_application(mail, applications)
        if found is None:
            report.seen.append(Seen(mail, "unmatched"))
            continue
        owed.setdefault(found.application.iid, []).append((mail, found.how))
    for iid, matched in owed.items():
        if dry_run:
            report.seen.extend(Seen(mail, "would_record", iid, how) for mail, how in matched)
            continue
        result = converge_issue(runtime, iid, mails=[answer_of(mail, settings) for mail, _ in matched])
        for mail, how in matched:
            done = result.outcome_of(source_id(MAIL, mail.message_id)) is not None
            report.seen.append(Seen(mail, "recorded" if done else "already", iid, how))
            log.info("mail %s from %s: %s on #%s (matched by %s)", mail.message_id, mail.sender_address,
                     "recorded" if done else "already recorded", iid, how)
    return report


def attach(runtime: Any, mailbox: Mailbox, message_id: str, iid: int) -> Seen:
    """Record the mail `message_id` on issue `iid`, as a person decided."""
    from bot.converge import converge_issue

    wanted = message_ids(message_id) or (f"<{message_id.strip('<>')}>",)
    raw = mailbox.find(wanted[0])
    if raw is None:
        raise MailboxError(f"no mail with Message-ID {wanted[0]} in the mailbox")
    mail = read_mail(raw.raw, fallback_id=raw.key)
    result = converge_issue(runtime, iid, mails=[answer_of(mail, runtime.settings)])
    if result.skipped:
        raise MailboxError(f"issue #{iid} is left alone: {result.skipped}")
    done = result.outcome_of(source_id(MAIL, mail.message_id)) is not None
    return Seen(mail, "recorded" if done else "already", iid, "attached")
