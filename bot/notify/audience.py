"""Who hears of an event: never the person who did it, and a to-do only where there is work.

The channels speak to one person, the reviewer (`notify.channels.gitlab_todo.reviewer`, else
`staging.reviewer`). A step the reviewer took themselves is news to nobody: it goes out on no
channel unless `notify.own_actions` is on. A to-do goes only with an event that leaves the
reviewer something to do (`notify.channels.gitlab_todo.work`: a new match to approve, an approved
one to send, an interview to prepare, an offer to answer); a rejection, a sent application or a
refused command are news, not work.
"""

from __future__ import annotations

from bot.config.settings import Settings
from bot.notify.owed import Owed, family

TODO = "gitlab_todo"


def recipient(settings: Settings) -> str | None:
    return settings.notify.channels.gitlab_todo.reviewer or settings.staging.reviewer


def audience(settings: Settings) -> "Audience":
    todo = settings.notify.channels.gitlab_todo
    return Audience(recipient(settings), settings.notify.own_actions, set(todo.work))


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
