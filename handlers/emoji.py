"""Emoji Hook: 👍 / 👎 on an issue approve or reject it (settings.workflow.emoji)."""

from __future__ import annotations

from typing import Any

from bot.handlers.payload import Attributes, HookPayload, IssueRef, as_int, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, router


class AwardAttributes(Attributes):
    name: Any = None
    awardable_type: Any = None
    action: Any = None


class EmojiHook(HookPayload):
    object_attributes: AwardAttributes | None = None
    issue: IssueRef | None = None


@router.register("Emoji Hook", payload=EmojiHook)
def emoji_changed(payload: EmojiHook, context: HookContext) -> Decision:
    issue = payload.issue or IssueRef()
    attributes = payload.object_attributes or AwardAttributes()
    refused = refuse_common(payload, attributes, context, confidential=issue.confidential is True)
    if refused:
        return refused
    name = attributes.name
    if not context.emoji_enabled:
        return Ignore("emoji reviews are off (workflow.emoji.enabled: false)")
    if attributes.awardable_type != "Issue":
        return Ignore("emoji on a comment, not on the issue")
    if not isinstance(name, str) or name not in context.emoji_names:
        return Ignore(f"emoji {name!r} means nothing to the bot")
    if (payload.event_type or attributes.action) == "revoke":
        return Ignore("taking an emoji back does not undo a decision")
    iid = as_int(issue.iid)
    if iid is None:
        return Ignore("the payload names no issue (issue.iid)")
    if not watched(context, issue.labels):
        return Ignore(f"issue #{iid} carries none of the bot's labels")
    return Converge(iid, f"emoji {name}")
