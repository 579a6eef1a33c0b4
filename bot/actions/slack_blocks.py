"""The Block Kit parts of deciding in Slack: a match's buttons, the outcome shown in their place,
and the modal asking for a rejection's reason.

A match's buttons live in an `actions` block whose `block_id` names the issue (`vorhoelle:12`), so
the bot can find them again in any message that carries them (a single match or a digest) and
replace just them. Each button's `value` says which issue and the state the message showed: a
press after the match moved on asks for nothing (bot/workflow.py, `expects`).
"""

from __future__ import annotations

import json
from typing import Any

from bot.actions.decide import OFFERED

BLOCK_PREFIX = "vorhoelle:"
REJECT_CALLBACK = "vorhoelle_reject"
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
# The state a match is in after the event a message announces, and what can be done from there.
STATE_AFTER = {"staged": "pending", "pending": "pending", "approved": "approved"}
LABELS = {"approve": "Approve", "reject": "Reject", "send": "Send"}
STYLES = {"approve": "primary", "reject": "danger"}


def _button(action: str, iid: int, state: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button", "action_id": action, "text": {"type": "plain_text", "text": LABELS[action]},
        "value": json.dumps({"iid": iid, "from": state}, separators=(",", ":")),
    }
    if action in STYLES:
        button["style"] = STYLES[action]
    return button


def match_actions(event: str, iid: int, web_url: str) -> dict[str, Any] | None:
    """The buttons for one match in a message about `event`; None when nothing can be decided."""
    state = STATE_AFTER.get(event)
    if state is None:
        return None
    buttons = [_button(action, iid, state) for action in OFFERED[state]]
    buttons.append({"type": "button", "action_id": "open", "url": web_url,
                    "text": {"type": "plain_text", "text": "Open in GitLab"}})
    return {"type": "actions", "block_id": f"{BLOCK_PREFIX}{iid}", "elements": buttons}


def pressed(value: str) -> tuple[int, str] | None:
    """The issue and the state a button's value names; None for a value the bot did not write."""
    try:
        data = json.loads(value)
        iid, state = int(data["iid"]), str(data["from"])
    except (ValueError, TypeError, KeyError):
        return None
    return (iid, state) if iid > 0 and state in OFFERED else None


def decided_in_place(blocks: list[dict[str, Any]], iid: int, text: str) -> list[dict[str, Any]]:
    """`blocks` with the match's buttons replaced by `text` (mrkdwn), everything else as it was."""
    block_id = f"{BLOCK_PREFIX}{iid}"
    shown = {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
    return [shown if block.get("block_id") == block_id else block for block in blocks]


def reject_modal(iid: int, metadata: dict[str, Any]) -> dict[str, Any]:
    """The modal asking why; `metadata` (issue, message, state) comes back with the submission."""
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "title": {"type": "plain_text", "text": f"Reject #{iid}"[:24]},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "plain_text",
                                         "text": f"Why reject match #{iid}? The reason goes into its GitLab history."}},
            {"type": "input", "block_id": REASON_BLOCK, "label": {"type": "plain_text", "text": "Reason"},
             "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "multiline": True,
                         "max_length": 500}},
        ],
    }


def reason_of(view: dict[str, Any]) -> str | None:
    """The reason typed into the modal."""
    values = (view.get("state") or {}).get("values") or {}
    value = ((values.get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}).get("value")
    return value.strip() or None if isinstance(value, str) else None
