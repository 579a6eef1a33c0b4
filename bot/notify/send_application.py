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
the bot's own description is the only copy GitLab keeps. People from Reporter up can edit it, so
the mail goes out only while someone with `send`'s right has seen it as it stands
(bot/send_check.py): the workflow held the `sent` step until then, and an edit by someone below
that right after the step was recorded holds the mail too. Which steps owe a mail, and which
mails went out, is read from the bot's own notes alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from markupsafe import Markup

from bot.markers import Marker, parse_markers, render_marker
from bot.notify.channel import ChannelError, required
from bot.notify.mail import Attachment, MailTransport, compose
from bot.notify.message import match_title
from bot.render import render
from bot.config.settings import ACCESS_LEVELS, Settings
from bot.send_check import Unseen, unseen_change
from bot.staging.parts import read_parts

log = logging.getLogger(__name__)

PREVIEW, SENT = "application_preview", "application_sent"
# A `sent` transition older than this is history, not a request: switching the feature on must
# not mail every match that was ever sent.
OWED_WINDOW = timedelta(hours=24)

@dataclass(frozen=True)
class Application:
    to: str | None
    subject: str
    draft: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class ApplicationResult:
    status: str            # off | no_contact | no_draft | dry_run | held | sent | already_sent | failed
    detail: str = ""
    message_id: str | None = None
    application: Application | None = None


def read_application(settings: Settings, snapshot: Any) -> Application:
    """Contact, subject, draft and attachment of the match staged in `snapshot`."""
    parts = read_parts(snapshot.description if snapshot.author.id == snapshot.bot_user.id else "")
    title = match_title(snapshot.title, settings.staging.title_template)
    name = settings.notify.channels.email.send_application.attachment
    path = settings.staging.attachments.get(name) if name else None
    attachments = (Attachment(path.name, path.read_bytes()),) if path is not None else ()
    return Application(
        to=parts.recipient,
        subject=" ".join(render("notify/application_subject.txt.j2", title=title).split()),
        draft=parts.draft,
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


def _step(snapshot: Any, source: str) -> tuple[Any, Marker] | None:
    """The bot's history note recording the `sent` step of `source`, and its marker."""
    for note in snapshot.notes:
        if note.author_id == snapshot.bot_user.id and not note.system:
            for marker in parse_markers(note.body):
                if marker.kind == "transition" and marker.source == source:
                    return note, marker
    return None


def _send_right(settings: Settings, step: Marker | None) -> int:
    """The access the step to `sent` needs; the strictest such step when it is not on record."""
    rules = [t for t in settings.workflow.transitions if t.to_state == "sent"]
    taken = [t for t in rules if step is not None and t.from_state == step.data.get("from")]
    return max((ACCESS_LEVELS[t.min_access] for t in taken or rules), default=max(ACCESS_LEVELS.values()))


def unseen_since_step(settings: Settings, gitlab: Any, snapshot: Any, source: str) -> Unseen | None:
    """Edits of the recipient or draft that nobody with send's right has seen since the step
    was recorded (since staging, when it is not): those hold the mail."""
    step = _step(snapshot, source)
    since = step[0].created_at if step else snapshot.created_at
    return unseen_change(snapshot, since, _send_right(settings, step[1] if step else None), gitlab.access_level)


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


def _write_record(gitlab: Any, snapshot: Any, record: tuple[int, Marker] | None, body: str) -> int:
    """Write the application's note: a new internal note, or the existing one edited."""
    if record is None:
        return int(gitlab.create_note(snapshot.iid, body, internal=True)["id"])
    gitlab.edit_note(snapshot.iid, record[0], body)
    return record[0]


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
    unseen = unseen_since_step(settings, gitlab, snapshot, source)
    if unseen is not None:
        who = ", ".join(person.username for person in unseen.editors)
        if not dry_run and (record is None or record[1].data.get("held") != who):
            _write_record(gitlab, snapshot, record, _note(application, PREVIEW, source, held=who))
        log.warning("issue #%d: the application is held: the description was changed by %s after the send",
                    snapshot.iid, who)
        return ApplicationResult("held", f"the description was changed by {who}, who may not send",
                                 application=application)
    if dry_run:
        return ApplicationResult("dry_run", f"would mail {application.subject!r} to {application.to}", application=application)
    mail = compose(
        sender=required(email.sender, "email.sender"), to=[application.to], subject=application.subject,
        text=render("notify/application.txt.j2", draft=application.draft),
        attachments=application.attachments,
    )
    possible_repeat = record is not None and not {"failed", "held"} & set(record[1].data)
    note_id = _write_record(gitlab, snapshot, record, _note(application, PREVIEW, source))
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
    # The mail's own Message-ID too: answers name it in In-Reply-To (bot/replies), whatever id
    # the transport reports (Gmail reports its own).
    gitlab.edit_note(snapshot.iid, note_id, _note(application, SENT, source, message_id=message_id,
                                                  mail_id=str(mail["Message-ID"]), **repeat))
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
