"""What a notification says, before any channel shapes it.

A `Message` is a list of `Item`s (one event on one issue each) plus, for test and health
messages, a line of text. Every channel renders the same message from its own templates in
`templates/notify/`, so a summary reads the same in Slack, an e-mail and the console. What a
message shows (`groups`) names each match once, under its latest event, best score first, and
groups the matches by event under a plain heading ("New job matches", "Approved").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    "reminder": ("reminder", "reminders"),
    "reply": ("reply received", "replies received"),
    "bounced": ("application mail bounced", "application mails bounced"),
    "no-reply": ("no reply yet", "no reply yet"),
    "interview": ("interview round", "interview rounds"),
    "offer": ("offer received", "offers received"),
    "hired": ("hired", "hired"),
    "declined": ("declined by you", "declined by you"),
    "turned-down": ("turned down", "turned down"),
    "withdrawn": ("withdrawn", "withdrawn"),
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
    round_at: str | None = None  # an interview round: when (ISO 8601, so the item stays JSON)
    round_zone: str = "UTC"      # and the zone it is read and shown in (workflow.lifecycle.timezone)
    with_whom: str | None = None

    @property
    def event_title(self) -> str:
        return event_title(self.event)

    @property
    def round_start(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.round_at).astimezone(ZoneInfo(self.round_zone)) if self.round_at else None
        except (ValueError, ZoneInfoNotFoundError):
            return None

    @property
    def round_when(self) -> str | None:
        """The round's time as the reviewer reads it: `Thu 10 Dec 2026, 14:00 (Europe/Berlin)`."""
        start = self.round_start
        return f"{start:%a %d %b %Y, %H:%M} ({start.tzinfo})" if start else None




def match_title(issue_title: str, title_template: str) -> str:
    """The match's own title inside an issue title made from `staging.title_template`."""
    pattern = re.escape(title_template).replace(r"\{score\}", r"\d+").replace(r"\{title\}", "(?P<title>.+)")
    found = re.fullmatch(pattern, issue_title) if "(?P<title>" in pattern else None
    return found["title"] if found else issue_title


def item_of(snapshot: Any, owed: Any, title_template: str) -> Item:
    """One owed event (`bot.notify.owed.Owed`) on an `IssueSnapshot`, as a reader sees it."""
    match = snapshot.match_marker.data if snapshot.match_marker else {}
    event = owed.event.data if owed.event.name != "staged" else {}
    score = match.get("score")
    return Item(
        event=owed.event.name,
        source=owed.event.source,
        iid=snapshot.iid,
        # GitLab's title writes `@` as `＠` (no mention); the match marker has the title as given.
        title=str(match.get("title") or match_title(snapshot.title, title_template).replace("\uff20", "@")),
        web_url=snapshot.web_url,
        score=int(score) if isinstance(score, (int, float)) else None,
        provider=match.get("provider"),
        location=match.get("location"),
        actor=event.get("actor"),
        reason=event.get("text"),
        possible_repeat=owed.possible_repeat,
        round_at=str(event["when"]) if event.get("happened") == "round" and event.get("when") else None,
        round_zone=str(event.get("zone") or "UTC"),
        with_whom=event.get("with"),
    )


# Events that say what happened to a match rather than which step it is at: a digest never folds
# them into a later step of the same match.
NEWS_OF_THEIR_OWN = frozenset({"reply", "bounced", "interview", "reminder", "refused"})


@dataclass(frozen=True)
class Message:
    items: tuple[Item, ...] = ()
    kind: Kind = "news"
    text: str | None = None          # test and health messages
    review_url: str | None = None    # the list of matches waiting for review

    @property
    def shown(self) -> list[Item]:
        """Each match once under its latest step (staged, then approved overnight: approved);
        what else happened to it (an answer, a bounce, an interview round, a reminder, a
        refusal) is news of its own and keeps its line. The items come oldest event first."""
        latest = {item.iid: item for item in self.items if item.event not in NEWS_OF_THEIR_OWN}
        return [item for item in self.items if item.event in NEWS_OF_THEIR_OWN or latest.get(item.iid) is item]

    @property
    def groups(self) -> list[tuple[str, list[Item]]]:
        """(heading, items) per event, new matches first; best score first within a group."""
        by_event: dict[str, list[Item]] = {}
        for item in sorted(self.shown, key=lambda i: i.event != "staged"):
            by_event.setdefault(item.event, []).append(item)
        return [(event_title(event, 2).capitalize(), sorted(items, key=lambda i: -(i.score or -1)))
                for event, items in by_event.items()]

    @property
    def top(self) -> Item | None:
        """The best-scored item, new matches first: what a one-line message leads with."""
        if not self.items:
            return None
        return max(self.shown, key=lambda i: (i.event == "staged", i.score or -1))

    @property
    def counts(self) -> list[str]:
        """"5 new job matches", "1 approved": one phrase per event, as the groups come."""
        counted = Counter(item.event for _, items in self.groups for item in items)
        return [f"{n} {event_title(event, n)}" for event, n in counted.items()]

    @property
    def possible_repeat(self) -> bool:
        return any(item.possible_repeat for item in self.items)

    def subject(self) -> str:
        return " ".join(render("notify/subject.txt.j2", message=self).split())

    def render(self, template: str, **context: Any) -> str:
        return render(f"notify/{template}", message=self, **context)
