"""Applications the bot has really mailed (over the SMTP fake), to which the mailbox answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.converge import ApiAction, converge_issue
from bot.staging.match import Match
from bot.staging.stage import stage_cycle
from tests.fakes.smtp import PASSWORD, USER
from tests.support.bot import bot_runtime


@dataclass(frozen=True)
class Sent:
    iid: int
    message_id: str  # the Message-ID the application went out with


def mailing_runtime(world: Any, smtp_port: int, *, outbox: Any = None, **over: Any) -> Any:
    """A runtime that mails applications over the SMTP fake; `outbox`: the console channel's file."""
    email = {"enabled": True, "transport": "smtp", "sender": "rita@example.com", "to": ["rita@example.com"],
             "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False, "username": USER, "password": PASSWORD},
             "send_application": {"enabled": True, "attachment": None}}
    console = {"console": {"enabled": True, "outbox": str(outbox)}} if outbox else {}
    return bot_runtime(world, notify={"channels": {"email": email, **console}}, **over)


def send(runtime: Any, smtp: Any, *, title: str, company: str, contact: str, url: str) -> Sent:
    """Stage a match, approve and send it through the converge: the bot mails the application."""
    match = Match(title=title, score=90, provider=company, url=url, draft=f"Dear {company},\n\nI would like to apply.",
                  contact={"name": "Contact", "email": contact})
    (staged,) = stage_cycle(runtime, [match])
    for action in ("approve", "send"):
        converge_issue(runtime, staged.iid, api_actions=[ApiAction(f"{action}-{staged.iid}", action, actor="Rita Reviewer")])
    (_, mail) = smtp.inbox.mails[-1]
    return Sent(staged.iid, str(mail["Message-ID"]))
