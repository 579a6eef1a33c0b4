"""What the handlers read of GitLab's webhook payloads, as types, and the checks they share.

Each handler registers the type of the payload it reads (`router.register(..., payload=...)`):
a msgspec `Struct` that names only the fields it looks at. The receiver decodes a delivery
straight into it, so the fields nobody reads (the description, the repository, every label's
colour and dates) are skipped without building a Python object for each: about half the time
of parsing the whole payload, which is most of what a delivery costs the bot (bench/README.md).

GitLab's payloads vary by version and event (deprecated fields still sent, `user` without an id in
older examples, labels as objects or names), so a scalar is read as whatever it is (`Any`) and
checked where it is used; a missing or odd field must lead to "ignore, because …", never to an
exception. A field of another kind than these types say (an object where a list belongs) makes
the router ignore the delivery with msgspec's words for what did not fit.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from bot.handlers.router import HookContext, Ignore


class Shape(Struct, gc=False):
    """The base of every payload type: a decoded payload holds no reference cycles, so the
    collector need not track it (one allocation fewer to count on every delivery)."""


class Label(Shape):
    title: Any = None
    name: Any = None   # as the REST API spells the title


Labels = list[Label | str] | None   # label objects, or names in older payloads


class User(Shape):
    id: Any = None
    username: Any = None


class Project(Shape):
    id: Any = None
    default_branch: Any = None


class Attributes(Shape):
    """The fields of `object_attributes` every event the handlers read has."""

    project_id: Any = None


class HookPayload(Shape):
    """The fields every payload the handlers read has: who acted, in which project."""

    user: User | None = None
    project: Project | None = None
    project_id: Any = None
    event_type: Any = None


class IssueRef(Shape):
    """The issue a comment or an emoji is on (`issue` in Note and Emoji Hooks)."""

    iid: Any = None
    confidential: Any = None
    labels: Labels = None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def project_id(payload: HookPayload, attributes: Attributes | None) -> int | None:
    for found in (payload.project.id if payload.project else None, payload.project_id,
                  attributes.project_id if attributes else None):
        if (number := as_int(found)) is not None:
            return number
    return None


def label_title(label: Label | str) -> str | None:
    """A label's name: `title` of a label object (`name` in API shapes), or the name itself."""
    title = (label.title if label.title is not None else label.name) if isinstance(label, Label) else label
    return title if isinstance(title, str) else None


def is_bot(context: HookContext, *, user_id: Any = None, username: Any = None) -> bool:
    return as_int(user_id) == context.bot_user_id or (
        isinstance(username, str) and username == context.bot_username
    )


def refuse_common(payload: HookPayload, attributes: Attributes | None, context: HookContext, *,
                  confidential: bool) -> Ignore | None:
    """The reasons to ignore any issue-related event: wrong project, the bot's own act, or a
    confidential event when the settings say to leave those alone."""
    found = project_id(payload, attributes)
    if found != context.project_id:
        return Ignore(f"event from project {found}, the bot watches project {context.project_id}")
    user = payload.user or User()
    if is_bot(context, user_id=user.id, username=user.username):
        return Ignore("the bot's own action")
    if confidential and not context.handle_confidential:
        return Ignore("confidential events are off (workflow.confidential.handle: false)")
    return None


def watched(context: HookContext, *label_lists: Labels) -> bool:
    """True when any of the label lists carries the marker label or a state label. (A plain
    loop that stops at the first: every queued delivery asks, most of them of the first list.)"""
    for labels in label_lists:
        for label in labels or ():
            if label_title(label) in context.watched_labels:
                return True
    return False
