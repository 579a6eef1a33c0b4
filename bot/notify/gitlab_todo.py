"""The GitLab to-do channel: put the match in the reviewer's GitLab to-do inbox.

GitLab makes a to-do for someone only when an issue is assigned to them or when they are
@mentioned (`POST .../todo` works for the caller alone). So: assign the reviewer when they are
not assigned yet; when they are, @mention them in a short note — except for a newly staged
match, whose assignment already made the to-do.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from markupsafe import Markup

from bot.gitlab_access import GitLabError
from bot.history import mention
from bot.markers import render_marker
from bot.notify.channel import ChannelError
from bot.notify.message import Message
from bot.render import render

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

    def send(self, message: Message) -> str:
        try:
            reviewer_id = self.reviewer_id
            if not message.items:
                return f"reviewer @{self.reviewer} found"
            done = [self._point(item) for item in {i.iid: i for i in message.items}.values()]
        except GitLabError as exc:
            raise ChannelError(f"GitLab: {exc}", permanent=not exc.transient) from exc
        log.info("to-do for @%s (user %d): %s", self.reviewer, reviewer_id, ", ".join(done))
        return ", ".join(done)

    def _point(self, item: Any) -> str:
        issue = self.gitlab.get_issue(item.iid)
        assignee_ids = [a["id"] for a in issue.get("assignees") or ()]
        if self.reviewer_id not in assignee_ids:
            self.gitlab.assign(item.iid, [*assignee_ids, self.reviewer_id])
            return f"#{item.iid} assigned"
        if item.event == "staged":
            # Staging assigned the reviewer: GitLab made the to-do then; a mention would make a second.
            return f"#{item.iid} already assigned"
        body = render(
            "notify/todo.md.j2",
            item=item,
            mention=mention(self.reviewer),
            marker=Markup(render_marker("todo", item.source, event=item.event, reviewer=self.reviewer)),
        )
        self.gitlab.create_note(item.iid, body)
        return f"#{item.iid} mentioned"
