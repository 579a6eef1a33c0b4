"""Has someone with `send`'s right seen what `send` would mail? Pure, no I/O.

The contact e-mail and the draft that `send` mails are read from the issue's description, which
anyone from Reporter up can edit. GitLab records every edit as a system note "changed the
description" by the editor (`IssueSnapshot.description_edits`), and nobody can forge those. So:

- no person edited the description since `since` (staging, or the bot's last rewrite of it):
  it says what the bot staged;
- the last person to edit it holds the right: they had the whole text in front of them;
- otherwise the text was last changed by someone below the right, and `send` must stop and ask;
- and when the recipient or draft differs from the digests staging recorded though GitLab named
  no editor at all, nobody vouches for it either: `send` asks too.

Otherwise the `staged` digests in the `match` marker only *name* what changed (recipient, draft):
they sit in the very text that was edited, so they never vouch for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.snapshot import DescriptionEdit, IssueSnapshot, Person
from bot.staging.parts import read_parts


@dataclass(frozen=True)
class Unseen:
    """What changed in the description since someone with the right saw it, and who changed it.

    `changed` names the parts (`recipient`, `draft`) that differ from what was staged; empty
    when both still match the staging record, None when the issue has no such record."""

    changed: tuple[str, ...] | None
    editors: tuple[Person, ...]  # empty: GitLab recorded no editor
    last_edit: datetime
    recipient: str | None  # where the mail would go as the description stands


def unseen_change(
    snapshot: IssueSnapshot, since: datetime, needed: int, access_level: Callable[[int], int]
) -> Unseen | None:
    """The edits since `since` that nobody with access `needed` has seen, or None when there are
    none (or the bot did not write the description: then `send` mails nothing from it)."""
    bot_id = snapshot.bot_user.id
    if snapshot.author.id != bot_id:
        return None
    written = max([snapshot.created_at, *(e.at for e in snapshot.description_edits if e.author.id == bot_id)])
    start = max(since, written)
    people = [e for e in snapshot.description_edits if e.author.id != bot_id and e.at >= start]
    unseen: list[DescriptionEdit] = []
    for edit in people:
        if access_level(edit.author.id) >= needed:
            unseen = []  # they edited the text as it stood, so they saw what came before
        else:
            unseen.append(edit)
    staged = snapshot.match_marker.data.get("staged") if snapshot.match_marker else None
    parts = read_parts(snapshot.description)
    changed = parts.changed_since(staged)
    if not people and since <= written and changed:
        # Changed, yet GitLab named no editor (a GitLab without the note): nobody vouches for it.
        return Unseen(changed, (), start, parts.recipient)
    if not unseen:
        return None
    editors = tuple(dict.fromkeys(e.author for e in unseen))
    return Unseen(changed, editors, unseen[-1].at, parts.recipient)
