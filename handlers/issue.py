"""Issue Hook: a label, state or text change on an issue."""

from __future__ import annotations

from typing import Any

from bot.handlers.payload import Attributes, HookPayload, Labels, Shape, as_int, refuse_common, watched
from bot.handlers.router import Converge, Decision, HookContext, Ignore, router


class IssueAttributes(Attributes):
    iid: Any = None
    confidential: Any = None
    action: Any = None
    labels: Labels = None


class LabelChange(Shape):
    previous: Labels = None


class IssueChanges(Shape):
    labels: LabelChange | None = None


class IssueHook(HookPayload):
    object_attributes: IssueAttributes | None = None
    labels: Labels = None
    changes: IssueChanges | None = None


@router.register("Issue Hook", "Confidential Issue Hook", payload=IssueHook)
def issue_changed(payload: IssueHook, context: HookContext) -> Decision:
    attributes = payload.object_attributes or IssueAttributes()
    refused = refuse_common(payload, attributes, context, confidential=attributes.confidential is True)
    if refused:
        return refused
    iid = as_int(attributes.iid)
    if iid is None:
        return Ignore("the payload names no issue (object_attributes.iid)")
    # A label removed in this very change still makes the issue ours: look at both sides.
    label_change = payload.changes.labels if payload.changes else None
    if not watched(context, attributes.labels, payload.labels, label_change.previous if label_change else None):
        return Ignore(f"issue #{iid} carries none of the bot's labels")
    return Converge(iid, f"issue {attributes.action or 'changed'}")
