"""What a notification says, before any channel shapes it.

A `Message` is a list of `Item`s (one event on one issue each) plus, for test and health
messages, a line of text. Every channel renders the same message from its own templates in
`templates/notify/`, so a summary reads the same in Slack, an e-mail and the console.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from bot.render import render

Kind = Literal["news", "test", "health"]

# How an event is announced (one, several); a state without an entry reads as its own name.
EVENT_TITLES = {
    "staged": ("new job match", "new job matches"),
    "approved": ("approved", "approved"),
    "rejected": ("rejected", "rejected"),
    "sent": ("application sent", "applications sent"),
    "pending": ("back to pending", "back to pending"),
    "refused": ("command refused", "commands refused"),
}


def event_title(event: str, count: int = 1) -> str:
    one, many = EVENT_TITLES.get(event, (event, event))
    return one if count == 1 else many


@dataclass(frozen=True)
class Item:
    event: str
    source: str
    iid: int
    title: str
    web_url: str
    score: int | None = None
    provider: str | None = None
    location: str | None = None
    actor: str | None = None
    reason: str | None = None
    possible_repeat: bool = False

    @property
    def event_title(self) -> str:
        return event_title(self.event)


@dataclass(frozen=True)
class Message:
    items: tuple[Item, ...] = ()
    kind: Kind = "news"
    text: str | None = None          # test and health messages
    review_url: str | None = None    # the list of matches waiting for review
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def top(self) -> Item | None:
        """The best-scored item, new matches first: what a one-line message leads with."""
        if not self.items:
            return None
        return max(self.items, key=lambda i: (i.event == "staged", i.score or -1))

    @property
    def counts(self) -> list[str]:
        """"5 new job matches", "1 approved": one phrase per event, in order of appearance."""
        counted = Counter(item.event for item in self.items)
        return [f"{n} {event_title(event, n)}" for event, n in counted.items()]

    @property
    def possible_repeat(self) -> bool:
        return any(item.possible_repeat for item in self.items)

    def subject(self) -> str:
        return " ".join(render("notify/subject.txt.j2", message=self).split())

    def render(self, template: str, **context: Any) -> str:
        return render(f"notify/{template}", message=self, **context)
