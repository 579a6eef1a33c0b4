"""Note bodies for the issue's history: transitions, refusals and help, each with its marker.

The workflow says what happened (`bot.workflow.Reply`); this module says it in words, through
`templates/notes/*.md.j2`, where every value a person typed is escaped. Only a refusal
@mentions its person (they need to know); the record of a change names people without pinging.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.commands import REGISTRY
from bot.markers import render_marker
from bot.render import render
from bot.config.settings import ACCESS_LEVELS, WorkflowSettings
from bot.snapshot import IssueSnapshot
from bot.workflow import FOLLOW_UP_KINDS, Reply, Verdict

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
    happened = next((o.happened for o in reply.outcomes if o.happened), None)
    if happened:
        data.update({k: v[:MARKER_TEXT_CHARS] if isinstance(v, str) else v for k, v in happened.items()})
    if reply.covers:
        data["covers"] = list(reply.covers)
    return Markup(render_marker(reply.kind, reply.source.id, **data))


def who_may(states: Sequence[str], workflow: WorkflowSettings) -> str:
    """Who may move a match into `states`, from the transitions table: "developers", "anyone"."""
    levels = [t.min_access for t in workflow.transitions if t.to_state in states]
    if not states:
        return "anyone"
    if not levels:
        return "nobody (no transition leads there)"
    return f"{min(levels, key=ACCESS_LEVELS.__getitem__)}s"


def _help_context(snapshot: IssueSnapshot, workflow: WorkflowSettings) -> dict[str, Any]:
    commands = [
        {"name": spec.name, "slash": spec.slash_name, "args": f" {spec.args}" if spec.args else "",
         "help": spec.help, "who": f"{spec.min_access}s" if spec.min_access else who_may(spec.states, workflow)}
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
        return render("notes/transition.md.j2", **context, emoji=f":{emoji}:", **_happened(outcome, workflow))
    if outcome.kind == "refusal":
        return render("notes/refusal.md.j2", **context)
    if outcome.kind in FOLLOW_UP_KINDS:
        return render("notes/follow_up.md.j2", **context, **_follow_up(outcome, workflow))
    if outcome.kind == "mail":
        return render("notes/mail_noted.md.j2", **context, step=(outcome.happened or {}).get("happened"))
    return render("notes/help.md.j2", **context, **_help_context(snapshot, workflow))


def _follow_up(outcome: Verdict, workflow: WorkflowSettings) -> dict[str, Any]:
    """A /snooze's or /remind's time, in the configured zone."""
    zone = workflow.lifecycle.timezone
    moment = datetime.fromisoformat((outcome.happened or {}).get("until") or (outcome.happened or {})["due"])
    return {"follow_up": outcome.kind, "until": Markup(f"{moment.astimezone(ZoneInfo(zone)):%a %d %b %Y, %H:%M} ({zone})")}


def _happened(outcome: Verdict, workflow: WorkflowSettings) -> dict[str, Any]:
    """A lifecycle step's own words: which happening, and a round's time in the configured zone."""
    happened = outcome.happened or {}
    shown: dict[str, Any] = {"step": happened.get("happened"), "round": happened.get("round"),
                             "with_whom": happened.get("with")}
    if happened.get("when"):
        zone = workflow.lifecycle.timezone
        moment = datetime.fromisoformat(happened["when"]).astimezone(ZoneInfo(zone))
        shown["round_when"] = Markup(f"{moment:%a %d %b %Y, %H:%M} ({zone})")  # ours: the zone is configured
    return shown


def note_body(
    reply: Reply, snapshot: IssueSnapshot, workflow: WorkflowSettings, intents: Sequence[str] = (),
    *, close: bool = False,
) -> str:
    """The whole note for one handled source: every outcome, then the marker — and the
    notifier's `sending` markers (`intents`) for the messages about this note's event. With
    `close`, a `/close` line makes GitLab close the issue with the very note that says why."""
    parts = [Markup(_part(o, reply, snapshot, workflow).strip()) for o in reply.outcomes]
    if reply.source.mail is not None:
        parts.append(Markup(render("notes/mail.md.j2", **reply.source.mail).strip()))
    marker = Markup("\n".join([reply_marker(reply), *intents]))
    return render("notes/note.md.j2", parts=parts, marker=marker, close=close)
