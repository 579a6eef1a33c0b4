"""Reading GitLab webhook payloads without trusting their shape.

GitLab's payloads vary by version and event (deprecated fields still sent, `user` without an id in
older examples, labels as objects or names); a missing or odd field must lead to "ignore, because
…", never to an exception in a handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.handlers.router import HookContext, Ignore, Payload


def dig(payload: Any, *keys: str) -> Any:
    """`dig(p, "object_attributes", "iid")`: the nested value, or None when any step is missing."""
    for key in keys:
        if type(payload) is not dict and not isinstance(payload, Mapping):   # a parsed payload's are dicts
            return None
        payload = payload.get(key)
    return payload


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def project_id(payload: Payload) -> int | None:
    for path in (("project", "id"), ("project_id",), ("object_attributes", "project_id")):
        found = as_int(dig(payload, *path))
        if found is not None:
            return found
    return None


def label_titles(labels: Any) -> set[str]:
    """Label names from a list of label objects (`title`, or `name` in API shapes) or strings."""
    if type(labels) is not list and (not isinstance(labels, Iterable) or isinstance(labels, (str, bytes, Mapping))):
        return set()   # (a parsed payload's lists are lists: the ABC checks are spared them)
    titles: set[str] = set()
    for label in labels:
        title = label.get("title", label.get("name")) if type(label) is dict or isinstance(label, Mapping) else label
        if isinstance(title, str):
            titles.add(title)
    return titles


def is_bot(context: HookContext, *, user_id: Any = None, username: Any = None) -> bool:
    return as_int(user_id) == context.bot_user_id or (
        isinstance(username, str) and username == context.bot_username
    )


def refuse_common(payload: Payload, context: HookContext, *, confidential: bool) -> Ignore | None:
    """The reasons to ignore any issue-related event: wrong project, the bot's own act, or a
    confidential event when the settings say to leave those alone."""
    found = project_id(payload)
    if found != context.project_id:
        return Ignore(f"event from project {found}, the bot watches project {context.project_id}")
    user = dig(payload, "user") or {}
    if is_bot(context, user_id=dig(user, "id"), username=dig(user, "username")):
        return Ignore("the bot's own action")
    if confidential and not context.handle_confidential:
        return Ignore("confidential events are off (workflow.confidential.handle: false)")
    return None


def watched(context: HookContext, *label_lists: Any) -> bool:
    """True when any of the label lists carries the marker label or a state label."""
    return any(label_titles(labels) & context.watched_labels for labels in label_lists)
