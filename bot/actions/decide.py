"""One decision from a message, carried out: who the sender is in GitLab, the converge with their
`ApiAction`, and what became of it, for the answer in the message's own channel.

The request id is the message service's own id for the press or the reply (Slack's `action_ts`,
a view's id, Twilio's `MessageSid`), so a retried or replayed request names a source the history
already records and changes nothing: exactly once, by the converge's markers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot.converge import ApiAction, converge_issue
from bot.gitlab_access import GitLabError
from bot.markers import source_id

log = logging.getLogger(__name__)

Result = Literal["applied", "refused", "unchanged", "not_a_match", "unknown_user", "gitlab_failed"]
# What a message offers for a match in each state; an action asked for elsewhere changes nothing.
OFFERED = {"pending": ("approve", "reject"), "approved": ("send",)}
EXPECTS = {action: state for state, actions in OFFERED.items() for action in actions}
ACTIONS = tuple(EXPECTS)


@dataclass(frozen=True)
class Asked:
    """What a person asked for in a message."""

    channel: str        # "slack" | "whatsapp"
    request_id: str     # the service's id of the press or message
    iid: int
    action: str         # one of ACTIONS
    username: str       # the GitLab user the sender maps to
    reason: str | None = None
    link: str | None = None
    expects: str | None = None   # the state the message showed


@dataclass(frozen=True)
class Decided:
    result: Result
    iid: int
    action: str
    state: str | None = None       # where the match is now
    actor: str | None = None       # the GitLab user's name
    refusal: Any = None            # refused: the workflow's refusal (`why`, `needed`, `had`, …)
    decided_by: str | None = None  # unchanged: who made the step into `state`, if the bot recorded it


def _last_step_by(snapshot: Any, state: str | None) -> str | None:
    steps = [m for m in getattr(snapshot, "bot_markers", ()) if m.kind == "transition" and m.data.get("to") == state]
    return str(steps[-1].data.get("actor")) if steps else None


def decide(runtime: Any, asked: Asked) -> Decided:
    """Carry out `asked` as its GitLab user; safe to call again with the same request id. GitLab
    failing is an answer too (nothing or all of the decision is recorded; asking again is safe)."""
    try:
        return _decide(runtime, asked)
    except GitLabError as error:
        if error.status == 404:
            return Decided("not_a_match", asked.iid, asked.action)
        log.warning("%s %s on #%s: %s", asked.channel, asked.action, asked.iid, error)
        return Decided("gitlab_failed", asked.iid, asked.action)


def _decide(runtime: Any, asked: Asked) -> Decided:
    user = runtime.gitlab.user_by_username(asked.username)
    if user is None or user.get("state", "active") != "active":
        return Decided("unknown_user", asked.iid, asked.action)
    action = ApiAction(
        request_id=asked.request_id, action=asked.action, actor=str(user.get("name") or user["username"]),
        reason=asked.reason, channel=asked.channel, user_id=int(user["id"]), username=str(user["username"]),
        link=asked.link, expects=asked.expects,
    )
    result = converge_issue(runtime, asked.iid, api_actions=[action])
    if result.skipped:
        return Decided("not_a_match", asked.iid, asked.action)
    reply = result.outcome_of(source_id(asked.channel, asked.request_id))
    refusal = next((o for o in reply.outcomes if o.kind == "refusal"), None) if reply else None
    outcome: Result = "refused" if refusal else "applied" if reply else "unchanged"
    decided = Decided(outcome, asked.iid, asked.action, result.final_state, action.actor, refusal,
                      _last_step_by(result.snapshot, result.final_state) if outcome == "unchanged" else None)
    log.info("%s %s on #%s by @%s: %s (now %s)", asked.channel, asked.action, asked.iid, action.username,
             outcome, decided.state, extra={"event": "message_action", "issue": asked.iid, "channel": asked.channel,
                                            "action": asked.action, "outcome": outcome})
    return decided
