"""Who hears of an event: never the person who did it, and a to-do only where there is work.

The channels speak to one person, the reviewer (`notify.channels.gitlab_todo.reviewer`, else
`staging.reviewer`). A step the reviewer took themselves is news to nobody: it goes out on no
channel unless `notify.own_actions` is on. A to-do goes only with an event that leaves the
reviewer something to do: a new match (approve or reject it), or a state from which the workflow
leads on to another state than the initial one (approved: send it); a rejection, a sent
application or a refused command are news, not work.
"""

from __future__ import annotations

from bot.config.settings import Settings, WorkflowSettings
from bot.notify.owed import STAGED, Owed, family

TODO = "gitlab_todo"


def recipient(settings: Settings) -> str | None:
    return settings.notify.channels.gitlab_todo.reviewer or settings.staging.reviewer


def work_events(workflow: WorkflowSettings) -> set[str]:
    """The events after which the reviewer has something to do."""
    onward = {t.from_state for t in workflow.transitions if t.to_state != workflow.initial_state}
    return {STAGED} | onward


def audience(settings: Settings) -> "Audience":
    return Audience(recipient(settings), settings.notify.own_actions, work_events(settings.workflow))


class Audience:
    def __init__(self, reviewer: str | None, own_actions: bool, work: set[str]):
        self.reviewer = (reviewer or "").lower()
        self.own_actions = own_actions
        self.work = work

    def hears(self, item: Owed) -> bool:
        actor = str(item.event.data.get("username") or "").lower()
        if actor and actor == self.reviewer and not self.own_actions:
            return False
        return family(item.channel) != TODO or item.event.name in self.work
