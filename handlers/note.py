"""Note Hook: a comment on an issue, which may carry a command (`/reject too junior`)."""

from __future__ import annotations

from bot.commands import parse_commands
from bot.handlers.payload import as_int, dig, is_bot, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, Payload, router


@router.register("Note Hook", "Confidential Note Hook")
def note_written(payload: Payload, context: HookContext) -> Decision:
    attributes = dig(payload, "object_attributes") or {}
    issue = dig(payload, "issue") or {}
    confidential = dig(payload, "event_type") == "confidential_note" or dig(issue, "confidential") is True
    refused = refuse_common(payload, context, confidential=confidential)
    if refused:
        return refused
    if dig(attributes, "noteable_type") != "Issue":
        return Ignore(f"a comment on a {dig(attributes, 'noteable_type') or 'something'}, not an issue")
    if is_bot(context, user_id=dig(attributes, "author_id")):
        return Ignore("the bot's own note")
    iid = as_int(dig(issue, "iid"))
    if iid is None:
        return Ignore("the payload names no issue (issue.iid)")
    body = dig(attributes, "note")
    has_command = isinstance(body, str) and bool(parse_commands(body, context.bot_username))
    if has_command:
        return Converge(iid, f"comment {dig(attributes, 'action') or 'written'} with a command")
    if watched(context, dig(issue, "labels")):
        return Converge(iid, f"comment {dig(attributes, 'action') or 'written'}")
    return Ignore(f"a comment without a command on issue #{iid}, which carries none of the bot's labels")
