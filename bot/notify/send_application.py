"""Sending the application: the reviewed draft, mailed to the posting's contact with the CV.

Off by default (`notify.channels.email.send_application.enabled`). When on, the `sent`
transition of a match whose issue names a contact e-mail mails the cover-letter draft from the
configured sender (the reviewer's Gmail account, or SMTP) with the configured attachment (e.g.
`staging.attachments.cv`). The issue shows a preview note first (the intent), which becomes the
receipt with the message id once the mail is out: a second call finds the receipt and sends
nothing. A refused mail turns the preview into a failure note, which the next try edits again. A
preview left as it was means the process died while sending: the next try sends again, and its
receipt says the mail may be a repeat. Without a contact nothing is mailed; the transition note
already records that the application went out.

The draft and the contact are read back from the issue the bot staged (templates/issue.md.j2):
the bot's own description is the only copy GitLab keeps.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from markupsafe import Markup

from bot.markers import Marker, parse_markers, render_marker
from bot.notify.channel import ChannelError, required
from bot.notify.mail import Attachment, MailTransport, compose
from bot.notify.message import match_title
from bot.render import render
from bot.config.settings import Settings

log = logging.getLogger(__name__)

PREVIEW, SENT = "application_preview", "application_sent"
# A `sent` transition older than this is history, not a request: switching the feature on must
# not mail every match that was ever sent.
OWED_WINDOW = timedelta(hours=24)
_DRAFT = re.compile(r"<details><summary>Draft \(click to open\)</summary>\n\n(?P<draft>.*?)\n\n</details>", re.S)
_CONTACT = re.compile(r"^\| Contact \| (?P<contact>.*) \|$", re.M)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#!|~@/=+\-])")


def unescape_markdown(text: str) -> str:
    """The inverse of bot.escape.escape_markdown: the text as the match engine sent it."""
    return html.unescape(_ESCAPED.sub(r"\1", text.replace("<br>", "\n")))


@dataclass(frozen=True)
class Application:
    to: str | None
    subject: str
    draft: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ApplicationResult:
    status: str            # off | no_contact | no_draft | dry_run | sent | already_sent | failed
    detail: str = ""
    message_id: str | None = None
    application: Application | None = None


def read_application(settings: Settings, snapshot: Any) -> Application:
    """Contact, subject, draft and attachment of the match staged in `snapshot`."""
    description = snapshot.description if snapshot.author.id == snapshot.bot_user.id else ""
    contact = _CONTACT.search(description)
    email = _EMAIL.search(unescape_markdown(contact["contact"])) if contact else None
    draft = _DRAFT.search(description)
    title = match_title(snapshot.title, settings.staging.title_template)
    name = settings.notify.channels.email.send_application.attachment
    path = settings.staging.attachments.get(name) if name else None
    attachments = (Attachment(path.name, path.read_bytes()),) if path is not None else ()
    return Application(
        to=email.group(0) if email else None,
        subject=" ".join(render("notify/application_subject.txt.j2", title=title).split()),
        draft=unescape_markdown(draft["draft"]) if draft else "",
        attachments=attachments,
    )


def _record(snapshot: Any, source: str) -> tuple[int, Marker] | None:
    """The bot's note about the application for `source` (preview or receipt) and its marker."""
    for note in snapshot.notes:
        if note.author_id == snapshot.bot_user.id:
            for marker in parse_markers(note.body):
                if marker.kind in (PREVIEW, SENT) and marker.source == source:
                    return note.id, marker
    return None


def _receipt(snapshot: Any, source: str) -> str | None:
    found = _record(snapshot, source)
    return str(found[1].data.get("message_id")) if found and found[1].kind == SENT else None


def _note(application: Application, kind: str, source: str, **record: Any) -> str:
    """The preview (`failed`: why the last try failed) or the receipt (`message_id`,
    `possible_repeat`)."""
    return render(
        "notify/application.md.j2",
        to=application.to,
        subject=application.subject,
        draft=application.draft,
        attachments=[a.filename for a in application.attachments],
        marker=Markup(render_marker(kind, source, **record)),
        **record,
    )


def send_application(
    settings: Settings,
    gitlab: Any,
    snapshot: Any,
    source: str,
    *,
    transport: MailTransport | None = None,
    dry_run: bool = False,
) -> ApplicationResult:
    """Mail the application for the `sent` transition named by `source` (its marker source).

    Converge calls this when it records a `sent` transition; `dry_run` only says what would go.
    """
    email = settings.notify.channels.email
    if not (email.enabled and email.send_application.enabled) and not dry_run:
        return ApplicationResult("off", "notify.channels.email.send_application is off")
    record = _record(snapshot, source)
    if record is not None and record[1].kind == SENT:
        existing = str(record[1].data.get("message_id"))
        return ApplicationResult("already_sent", f"message id {existing}", existing)
    application = read_application(settings, snapshot)
    if application.to is None:
        return ApplicationResult("no_contact", "the match names no contact e-mail; nothing mailed", application=application)
    if not application.draft:
        return ApplicationResult("no_draft", "the match has no cover-letter draft; nothing mailed", application=application)
    if dry_run:
        return ApplicationResult("dry_run", f"would mail {application.subject!r} to {application.to}", application=application)
    mail = compose(
        sender=required(email.sender, "email.sender"), to=[application.to], subject=application.subject,
        text=render("notify/application.txt.j2", draft=application.draft),
        attachments=application.attachments,
    )
    possible_repeat = record is not None and "failed" not in record[1].data
    preview = _note(application, PREVIEW, source)
    if record is None:
        note_id = int(gitlab.create_note(snapshot.iid, preview, internal=True)["id"])
    else:
        note_id = record[0]
        gitlab.edit_note(snapshot.iid, note_id, preview)
    if transport is None:
        from bot.notify import mail_transport

        transport = mail_transport(settings)
    try:
        message_id = transport.deliver(mail)
    except ChannelError as exc:
        gitlab.edit_note(snapshot.iid, note_id, _note(application, PREVIEW, source, failed=str(exc)))
        log.warning("issue #%d: the application to %s was not sent: %s", snapshot.iid, application.to, exc)
        return ApplicationResult("failed", str(exc), application=application)
    repeat = {"possible_repeat": True} if possible_repeat else {}
    gitlab.edit_note(snapshot.iid, note_id, _note(application, SENT, source, message_id=message_id, **repeat))
    log.info("issue #%d: application mailed to %s, message id %s%s", snapshot.iid, application.to, message_id,
             " (may repeat an earlier attempt)" if possible_repeat else "")
    return ApplicationResult("sent", f"mailed to {application.to}", message_id, application)


def owed_applications(snapshot: Any, now: datetime | None = None) -> list[str]:
    """Sources of recent `sent` transitions whose application has no receipt yet.

    Derived from the bot's markers alone, so an application interrupted by a crash is still owed
    at the next converge; the receipt check in `send_application` keeps it to one mail.
    """
    now = now or datetime.now(timezone.utc)
    owed = []
    for marker in snapshot.bot_markers:
        if marker.kind != "transition" or marker.data.get("to") != "sent":
            continue
        try:
            at = datetime.fromisoformat(str(marker.data.get("at")))
        except ValueError:
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        if now - at <= OWED_WINDOW and _receipt(snapshot, marker.source) is None:
            owed.append(marker.source)
    return owed
