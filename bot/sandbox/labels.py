"""Project labels: lookup by id or name, colour rules, and creation on first use.

GitLab creates an unknown label when the API gives it to an issue (`labels=`, `add_labels=`), with
the default colour; the same happens here, through `ensure_label`. A `/label` quick action, by
contrast, applies only labels that exist (bot/sandbox/commands.py).
"""

from __future__ import annotations

import re

from bot.sandbox.errors import not_found, unprocessable
from bot.sandbox.routing import record_id
from bot.sandbox.store import Label, Project, Store

DEFAULT_COLOR = "#6699cc"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
NAMED_COLORS = {
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "orange": "#ffa500",
    "yellow": "#ffff00",
    "purple": "#800080",
    "black": "#000000",
    "white": "#ffffff",
    "gray": "#808080",
    "grey": "#808080",
}


def valid_color(color: str) -> str:
    """`#RGB`, `#RRGGBB` or a CSS colour name, normalised to `#rrggbb`; 422 otherwise."""
    value = color.strip()
    if value.lower() in NAMED_COLORS:
        return NAMED_COLORS[value.lower()]
    if not _HEX.match(value):
        raise unprocessable({"color": ["must be a valid color code"]})
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def valid_label_name(name: str) -> str:
    value = name.strip()
    if not value or "," in value or len(value) > 255:
        raise unprocessable({"title": ["is invalid"]})
    return value


def find_label(store: Store, project: Project, ref: str) -> Label:
    """By numeric id (of this project) or exact name; 404 `Label Not Found` otherwise."""
    label = store.label_by_name(project.id, ref)
    if label is None:
        label = store.get("labels", record_id(ref))
        if label is not None and label.project_id != project.id:
            label = None
    if label is None:
        raise not_found("Label")
    return label


def new_label(
    store: Store,
    project: Project,
    name: str,
    color: str = DEFAULT_COLOR,
    description: str | None = None,
    priority: int | None = None,
) -> Label:
    now = store.now()
    label = Label(
        id=store.new_id("labels"),
        project_id=project.id,
        name=name,
        color=color,
        created_at=now,
        updated_at=now,
        description=description,
        priority=priority,
    )
    return store.add("labels", label)


def ensure_label(store: Store, project: Project, name: str) -> Label:
    return store.label_by_name(project.id, name) or new_label(
        store, project, valid_label_name(name)
    )
