"""Emoji Hook: 👍 / 👎 on an issue approve or reject it (settings.workflow.emoji)."""

from __future__ import annotations

from bot.handlers.payload import as_int, dig, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, Payload, router


@router.register("Emoji Hook")
def emoji_changed(payload: Payload, context: HookContext) -> Decision:
    issue = dig(payload, "issue") or {}
    refused = refuse_common(payload, context, confidential=dig(issue, "confidential") is True)
    if refused:
        return refused
    attributes = dig(payload, "object_attributes") or {}
    name = dig(attributes, "name")
    if not context.emoji_enabled:
        return Ignore("emoji reviews are off (workflow.emoji.enabled: false)")
    if dig(attributes, "awardable_type") != "Issue":
        return Ignore("emoji on a comment, not on the issue")
    if name not in context.emoji_names:
        return Ignore(f"emoji {name!r} means nothing to the bot")
    if (dig(payload, "event_type") or dig(attributes, "action")) == "revoke":
        return Ignore("taking an emoji back does not undo a decision")
    iid = as_int(dig(issue, "iid"))
    if iid is None:
        return Ignore("the payload names no issue (issue.iid)")
    if not watched(context, dig(issue, "labels")):
        return Ignore(f"issue #{iid} carries none of the bot's labels")
    return Converge(iid, f"emoji {name}")
