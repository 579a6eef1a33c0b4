"""Bring one issue to where its history says it should be. The only place that changes GitLab
(besides staging, which creates issues).

Read what GitLab says (`read_snapshot`), ask the workflow what is owed, write the owed notes in
source order, then fix the labels in one call. Every note carries the marker of its source, so a
second run, a replayed webhook or a run after a crash half-way finds nothing left to do, or
exactly what the crash left undone. Notes go first: the recorded state lives in them, and labels
are always re-derivable from it. Another replica converging the same issue at the same moment
writes the same notes: after writing, the younger of two twins is deleted (bot/replicas.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from bot import history, replicas, workflow
from bot.config.settings import Settings
from bot.gitlab_access import handling_event
from bot.issue_lock import holding
from bot.markers import parse_markers
from bot.runtime import Runtime
from bot.snapshot import IssueSnapshot, read_snapshot
from bot.status_issue import KIND as STATUS_KIND
from bot.workflow import FOLLOW_UP_KINDS, ApiAction, MailAnswer, Reply

__all__ = ["ApiAction", "ConvergeResult", "Effect", "MailAnswer", "converge_issue"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Effect:
    """One write to GitLab: `kind` is note or labels; `source` names what caused a note."""

    kind: str
    source: str | None = None
    detail: str = ""


@dataclass
class ConvergeResult:
    iid: int
    skipped: str | None = None  # why nothing was considered (not a job match, confidential, ...)
    start_state: str | None = None
    final_state: str | None = None
    effects: list[Effect] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    snapshot: IssueSnapshot | None = None  # as it stands after the converge

    def outcome_of(self, source: str) -> Reply | None:
        """The reply written for `source` in this run (e.g. `api:<request id>`), if any."""
        return next((r for r in self.replies if r.source.id == source), None)


def _skip_reason(snapshot: IssueSnapshot, settings: Settings) -> str | None:
    if any(marker.kind == STATUS_KIND for marker in snapshot.bot_markers):
        return "the bot's status issue (bot/status_issue.py), whatever its labels"
    if not workflow.is_job_match(snapshot, settings.workflow):
        return "not a job-match issue"
    if snapshot.confidential and not settings.workflow.confidential.handle:
        return "confidential issue (workflow.confidential.handle is off)"
    return None


def converge_issue(
    runtime: Runtime,
    iid: int,
    *,
    event_uuid: str | None = None,
    api_actions: Sequence[ApiAction] = (),
    mails: Sequence[MailAnswer] = (),
) -> ConvergeResult:
    """Apply what is owed on issue `iid`; safe to run any number of times, from any thread.
    `mails`: answers from the mailbox matched to this issue (bot/replies), recorded once each."""
    gitlab, settings = runtime.gitlab, runtime.settings
    with holding(gitlab, settings.project, iid), handling_event(event_uuid):
        return _converge(runtime, iid, api_actions, mails)


def _converge(runtime: Runtime, iid: int, api_actions: Sequence[ApiAction], mails: Sequence[MailAnswer] = ()) -> ConvergeResult:
    """Read, plan, write notes, fix labels, hand over to the notifier: under the issue's lock."""
    gitlab, settings = runtime.gitlab, runtime.settings
    result = ConvergeResult(iid=iid)
    snapshot = read_snapshot(gitlab, iid)
    result.skipped = _skip_reason(snapshot, settings)
    if result.skipped:
        logger.info("issue #%s left alone: %s", iid, result.skipped)
        result.snapshot = snapshot
        return result
    access_level = cache(gitlab.access_level)
    plan = workflow.plan(snapshot, settings.workflow, access_level, api_actions,
                         guard_send=_mails_applications(settings), mails=mails)
    result.start_state, result.final_state = plan.start_state, plan.final_state
    closing = next((r for r in reversed(plan.replies) if r.kind == "transition"), None) if plan.close else None
    written: dict[int, Reply] = {}
    for reply in plan.replies:
        body = history.note_body(
            reply, snapshot, settings.workflow, _intents(runtime, snapshot, reply), close=reply is closing
        )
        note = gitlab.create_note(iid, body, internal=reply.internal)
        written[note["id"]] = reply
        refused = ",".join(o.why for o in reply.outcomes if o.kind == "refusal")
        logger.info(
            "issue #%s: %s%s for %s by %s (%s), now %s",
            iid, reply.kind, f" ({refused})" if refused else "", reply.source.id, reply.source.actor.name,
            reply.source.channel, reply.state,
        )
    others: list[Effect] = []   # what the converge writes besides notes
    if plan.add_labels or plan.remove_labels:
        gitlab.update_labels(iid, add=plan.add_labels, remove=plan.remove_labels)
        others.append(Effect("labels", None, f"+{','.join(plan.add_labels)} -{','.join(plan.remove_labels)}"))
        logger.info("issue #%s: labels %s", iid, others[-1].detail)
    if any(r.kind in FOLLOW_UP_KINDS for r in plan.replies) and settings.follow_up.label not in snapshot.labels:
        gitlab.update_labels(iid, add=[settings.follow_up.label])   # the reminder sweep finds it by this label
        others.append(Effect("labels", None, f"+{settings.follow_up.label}"))
    if plan.change_due_date:
        gitlab.edit_issue(iid, due_date=plan.due_date or "")
        others.append(Effect("due_date", None, plan.due_date or "none"))
        logger.info("issue #%s: due date %s (next interview round, or the last day to apply)", iid, plan.due_date or "cleared")
    result.snapshot = snapshot
    if written or others:
        result.snapshot = _keep_older_twins(runtime, read_snapshot(gitlab, iid), written)
    for note_id, reply in written.items():
        if any(note.id == note_id for note in result.snapshot.notes):
            result.effects.append(Effect("note", reply.source.id, f"{reply.kind} note {note_id}"))
            result.replies.append(reply)
    result.effects += others
    _notify(runtime, result.snapshot)
    _send_applications(runtime, result.snapshot)
    return result


def _keep_older_twins(runtime: Any, snapshot: IssueSnapshot, written: dict[int, Reply]) -> IssueSnapshot:
    """The issue as it stands, read after the writes, less the notes written here that another
    replica's older note records already: those are deleted, and what this converge promised in
    them (the notifier's intents) is taken back."""
    deleted = replicas.delete_younger_twins(runtime.gitlab, snapshot, written)
    withdraw = getattr(getattr(runtime, "notifier", None), "withdraw", None)
    for body in deleted.values():
        if withdraw is not None:
            withdraw(snapshot.iid, body)
    if not deleted:
        return snapshot
    return replace(snapshot, notes=tuple(note for note in snapshot.notes if note.id not in deleted))


def _mails_applications(settings: Any) -> bool:
    email = settings.notify.channels.email
    return bool(email.enabled and email.send_application.enabled)


def _send_applications(runtime: Runtime, snapshot: IssueSnapshot) -> None:
    """Mail the application for a recent `sent` transition, when that feature is switched on."""
    if not _mails_applications(runtime.settings):
        return
    from bot.notify.send_application import owed_applications, send_application

    for source in owed_applications(snapshot):
        try:
            outcome = send_application(runtime.settings, runtime.gitlab, snapshot, source)
            logger.info("issue #%s: application for %s: %s (%s)", snapshot.iid, source, outcome.status, outcome.detail)
        except Exception:
            logger.exception("issue #%s: application for %s failed; the next converge tries again", snapshot.iid, source)


def _intents(runtime: Runtime, snapshot: IssueSnapshot, reply: Reply) -> list[str]:
    """The notifier's intent to announce `reply` right away, written with its history note:
    one write fewer per message than a note of the notifier's own."""
    intent_for = getattr(getattr(runtime, "notifier", None), "intent_for", None)
    if intent_for is None:
        return []
    try:
        return intent_for(snapshot, parse_markers(history.reply_marker(reply))[0])
    except Exception:
        logger.exception("notifier failed on issue #%s; it writes its intent itself", snapshot.iid)
        return []


def _notify(runtime: Runtime, snapshot: IssueSnapshot) -> None:
    """Hand the issue as it now stands to the notifier; its failures are its own to retry."""
    notifier = getattr(runtime, "notifier", None)
    if notifier is None:
        return
    try:
        notifier.on_converged(snapshot)
    except Exception:
        logger.exception("notifier failed on issue #%s; the next converge offers it again", snapshot.iid)
