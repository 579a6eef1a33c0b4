"""Quick actions as GitLab sees them: which lines it removes from a note or description.

GitLab removes every line `/<name> [args]` whose name is one of its quick actions, whether or not
the action applies to the target, before the text is saved and before any webhook sees it. The
sandbox must do the same, or the bot would be tested against text no real GitLab delivers (an
`/approve` on an issue, for instance, never reaches a bot). This module is pure text: it finds
and removes the actions; the sandbox's routes decide what to execute.
"""

from __future__ import annotations

from dataclasses import dataclass

# Filled in below; the signatures are the contract S1 codes against.
QUICK_ACTIONS: frozenset[str] = frozenset()
"""Every quick action name (and alias) GitLab defines for issues, MRs, epics, work items, commits."""

ISSUE_EXECUTABLE: frozenset[str] = frozenset()
"""Names (aliases included) the sandbox executes on an issue; the rest answer
`could_not_apply(name)`."""


@dataclass
class QuickAction:
    """One removed line: `name` lower-cased as written, `args` stripped, `line` 1-based."""

    name: str
    args: str
    line: int

    @property
    def command(self) -> str:
        """The canonical name, aliases resolved (`remove_label` -> `unlabel`, `react` -> `award`)."""
        raise NotImplementedError


@dataclass
class Extracted:
    """The text as GitLab saves it, and the actions removed from it, in order."""

    text: str
    actions: list[QuickAction]


def extract_quick_actions(text: str) -> Extracted:
    """Remove quick-action lines outside code, HTML blocks and `>>>` quotes, as GitLab does."""
    raise NotImplementedError


def could_not_apply(name: str) -> str:
    """GitLab's answer for an action that does not apply to the target."""
    return f"Could not apply {name} command."


def parse_label_args(args: str) -> list[str]:
    """`~a ~"b c" plain` -> `["a", "b c", "plain"]`."""
    raise NotImplementedError


def parse_user_args(args: str) -> list[str]:
    """`@a @b me` -> `["a", "b", "me"]` (the caller resolves `me`)."""
    raise NotImplementedError


def parse_emoji_arg(args: str) -> str:
    """`:thumbsup:` or `thumbsup` -> `thumbsup`; empty string when no emoji was given."""
    raise NotImplementedError


def find_mentions(text: str) -> list[str]:
    """Usernames @mentioned outside code, in order, without duplicates (`all` included)."""
    raise NotImplementedError
