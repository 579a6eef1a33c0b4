"""Note Hook: a comment on an issue, which may carry a command (`/reject too junior`)."""

from __future__ import annotations

from typing import Any

from bot.commands import parse_commands
from bot.handlers.payload import Attributes, HookPayload, IssueRef, as_int, is_bot, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, router


class NoteAttributes(Attributes):
    noteable_type: Any = None
    author_id: Any = None
    note: Any = None
    action: Any = None


class NoteHook(HookPayload):
    object_attributes: NoteAttributes | None = None
    issue: IssueRef | None = None


@router.register("Note Hook", "Confidential Note Hook", payload=NoteHook)
def note_written(payload: NoteHook, context: HookContext) -> Decision:
    attributes = payload.object_attributes or NoteAttributes()
    issue = payload.issue or IssueRef()
    confidential = payload.event_type == "confidential_note" or issue.confidential is True
    refused = refuse_common(payload, attributes, context, confidential=confidential)
    if refused:
        return refused
    if attributes.noteable_type != "Issue":
        return Ignore(f"a comment on a {attributes.noteable_type or 'something'}, not an issue")
    if is_bot(context, user_id=attributes.author_id):
        return Ignore("the bot's own note")
    iid = as_int(issue.iid)
    if iid is None:
        return Ignore("the payload names no issue (issue.iid)")
    body = attributes.note
    has_command = isinstance(body, str) and bool(parse_commands(body, context.bot_username))
    if has_command:
        return Converge(iid, f"comment {attributes.action or 'written'} with a command")
    if watched(context, issue.labels):
        return Converge(iid, f"comment {attributes.action or 'written'}")
    return Ignore(f"a comment without a command on issue #{iid}, which carries none of the bot's labels")
