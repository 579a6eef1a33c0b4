"""Note bodies for the issue's history: transitions, refusals and help, each with its marker.

The workflow says what happened (`bot.workflow.Reply`); this module says it in words, through
`templates/notes/*.md.j2`, where every value a person typed is escaped. Only a refusal
@mentions its person (they need to know); the record of a change names people without pinging.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from bot.commands import REGISTRY
from bot.markers import render_marker
from bot.render import render
from bot.config.settings import WorkflowSettings
from bot.snapshot import IssueSnapshot
from bot.workflow import Reply, Verdict

_USERNAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
MARKER_TEXT_CHARS = 500


def mention(username: str | None) -> Markup | str:
    """`@name` that pings, for a name GitLab could have issued; anything else stays inert text."""
    if username and _USERNAME.match(username):
        return Markup(f"@{username}")
    return username or ""


def reply_marker(reply: Reply) -> Markup:
    """The marker recording `reply.source` as handled, with what notifications need to know."""
    steps = [[o.from_state, o.to_state] for o in reply.outcomes if o.kind == "transition"]
    data: dict[str, Any] = {
        "state": reply.state,
        "at": reply.source.at.isoformat(),
        "channel": reply.source.channel,
        "actor": reply.source.actor.name,
    }
    if reply.source.actor.username:
        data["username"] = reply.source.actor.username
    if steps:
        data.update({"from": steps[0][0], "to": steps[-1][1], "steps": steps})
    refusals = [o.why for o in reply.outcomes if o.kind == "refusal"]
    if refusals:
        data["refused"] = refusals
    text = next((o.text for o in reply.outcomes if o.text), None)
    if text:
        data["text"] = text[:MARKER_TEXT_CHARS]
    if reply.covers:
        data["covers"] = list(reply.covers)
    return Markup(render_marker(reply.kind, reply.source.id, **data))


def _help_context(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> dict[str, Any]:
    commands = [
        {"name": spec.name, "slash": spec.slash_name, "args": f" {spec.args}" if spec.args else "", "help": spec.help}
        for spec in REGISTRY.values()
    ]
    emoji = workflow.emoji
    shown = {"approve": f":{emoji.approve}:", "reject": f":{emoji.reject}:"} if emoji.enabled else None
    return {"commands": commands, "emoji": shown}


def _part(outcome: Verdict, reply: Reply, snapshot: IssueSnapshot, workflow: WorkflowSettings) -> str:
    source = reply.source
    context: dict[str, Any] = {
        **vars(outcome),
        "channel": source.channel,
        "actor_name": source.actor.name,
        "actor_username": source.actor.username,
        "mention": mention(source.actor.username),
        "link": source.link,
        "when": source.at.strftime("%Y-%m-%d %H:%M UTC"),
        "bot_username": snapshot.bot_user.username,
        "label": workflow.states[outcome.from_state].label if outcome.from_state in workflow.states else "",
    }
    if outcome.kind == "transition":
        emoji = workflow.emoji.approve if outcome.to_state == "approved" else workflow.emoji.reject
        return render("notes/transition.md.j2", **context, emoji=f":{emoji}:")
    if outcome.kind == "refusal":
        return render("notes/refusal.md.j2", **context)
    return render("notes/help.md.j2", **context, **_help_context(snapshot, workflow))


def note_body(reply: Reply, snapshot: IssueSnapshot, workflow: WorkflowSettings, intents: Sequence[str] = ()) -> str:
    """The whole note for one handled source: every outcome, then the marker — and the
    notifier's `sending` markers (`intents`) for the messages about this note's event."""
    parts = [Markup(_part(o, reply, snapshot, workflow).strip()) for o in reply.outcomes]
    return render("notes/note.md.j2", parts=parts, marker=Markup("\n".join([reply_marker(reply), *intents])))
