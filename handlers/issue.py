"""Issue Hook: a label, state or text change on an issue."""

from __future__ import annotations

from bot.handlers.payload import as_int, dig, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, Payload, router


@router.register("Issue Hook", "Confidential Issue Hook")
def issue_changed(payload: Payload, context: HookContext) -> Decision:
    attributes = dig(payload, "object_attributes") or {}
    refused = refuse_common(payload, context, confidential=dig(attributes, "confidential") is True)
    if refused:
        return refused
    iid = as_int(dig(attributes, "iid"))
    if iid is None:
        return Ignore("the payload names no issue (object_attributes.iid)")
    # A label removed in this very change still makes the issue ours: look at both sides.
    if not watched(
        context,
        dig(attributes, "labels"),
        dig(payload, "labels"),
        dig(payload, "changes", "labels", "previous"),
    ):
        return Ignore(f"issue #{iid} carries none of the bot's labels")
    return Converge(iid, f"issue {dig(attributes, 'action') or 'changed'}")
