"""Made-up matches for notification tests (example.com people, invented companies)."""

from __future__ import annotations

from bot.notify.message import Item, Message


def item(n: int = 1, *, event: str = "staged", score: int = 90, title: str | None = None, **extra) -> Item:
    return Item(
        event=event,
        source=f"match:https://jobs.example.com/{n}",
        iid=n,
        title=title or f"Cloud Architect {n}",
        web_url=f"https://gitlab.example.com/acme/jobs/-/issues/{n}",
        score=score,
        provider="Nordlicht Consulting GmbH",
        location="Berlin",
        **extra,
    )


def summary(count: int = 3) -> Message:
    return Message(
        items=tuple(item(n, score=80 + n) for n in range(1, count + 1)),
        review_url="https://gitlab.example.com/acme/jobs/-/issues?label_name[]=job-match/pending",
    )
