"""The GitLab to-do channel: put the match in the reviewer's GitLab to-do inbox.

GitLab makes a to-do for someone only when an issue is assigned to them or when they are
@mentioned (`POST .../todo` works for the caller alone). So: assign the reviewer when they are
not assigned yet; when they are, ask for an @mention in the record of the delivery (a
`Receipt`): the record edits the event's history note, so the mention costs no note of its own,
and mention and record are one write — a crash cannot leave one without the other. A newly
staged match needs neither when staging assigned the reviewer already: that made the to-do.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from bot.gitlab_access import GitLabError
from bot.notify.channel import ChannelError, Receipt
from bot.notify.message import Message

log = logging.getLogger(__name__)


class GitLabTodo:
    name = "gitlab_todo"

    def __init__(self, gitlab: Any, reviewer: str):
        self.gitlab = gitlab
        self.reviewer = reviewer

    @cached_property
    def reviewer_id(self) -> int:
        user = self.gitlab.user_by_username(self.reviewer)
        if user is None:
            raise ChannelError(f"reviewer {self.reviewer!r} is not a GitLab user", permanent=True)
        return int(user["id"])

    def send(self, message: Message) -> str | Receipt:
        try:
            reviewer_id = self.reviewer_id
            if not message.items:
                return f"reviewer @{self.reviewer} found"
            done = {(item.iid, item.source): self._point(item) for item in message.items}
        except GitLabError as exc:
            raise ChannelError(f"GitLab: {exc}", permanent=not exc.transient) from exc
        said = ", ".join(f"#{iid} {what}" for (iid, _), what in done.items())
        log.info("to-do for @%s (user %d): %s", self.reviewer, reviewer_id, said)
        return Receipt(said, mention=self.reviewer, on=frozenset(key for key, what in done.items() if what == "mentioned"))

    def _point(self, item: Any) -> str:
        issue = self.gitlab.get_issue(item.iid)
        assignee_ids = [a["id"] for a in issue.get("assignees") or ()]
        if self.reviewer_id not in assignee_ids:
            self.gitlab.assign(item.iid, [*assignee_ids, self.reviewer_id])
            return "assigned"
        if item.event == "staged":
            # Staging assigned the reviewer: GitLab made the to-do then; a mention would make a second.
            return "already assigned"
        return "mentioned"
