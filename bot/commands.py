"""Comment commands, Prow-style: each registers itself once, and everything else reads the registry.

A command is a line that starts with `/verb` or `@<bot> verb`, outside fenced code, inline code
and `>` quotes. The parser, the help reply (`templates/notes/help.md.j2`) and the docs come from
the same registry, so they cannot disagree. GitLab swallows `/approve` on issues (it is a merge
request quick action), so the slash form shown to people is the first name GitLab leaves alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.config.settings import WorkflowSettings

# Our verbs that are also GitLab quick actions: GitLab removes such lines before the bot sees them.
GITLAB_QUICK_ACTIONS = frozenset({"approve"})
MAX_ARGUMENT_CHARS = 2000


@dataclass(frozen=True)
class Happening:
    """What a lifecycle command records besides a state: `reply`, an interview `round` (its time
    as typed in `when`, read by the workflow against the comment's own time) or an `offer`."""

    kind: str
    when: str | None = None
    with_: str | None = None


@dataclass(frozen=True)
class MoveTo:
    """Ask for the match to move to `state`; `text` is the reason or note that goes with it.
    With a `happening`, a move to the state it is already in records the happening instead."""

    state: str
    text: str | None = None
    happening: Happening | None = None
    confirmed: bool = False  # `/confirm-send`: the description as it stands was looked at


@dataclass(frozen=True)
class Incomplete:
    """A command written without the argument it needs; `usage` says how to write it."""

    usage: str


@dataclass(frozen=True)
class ShowHelp:
    """Answer with the command list; `unknown` is the verb we did not understand, if any."""

    unknown: str | None = None


Request = MoveTo | ShowHelp | Incomplete


@dataclass(frozen=True)
class CommandSpec:
    name: str
    aliases: tuple[str, ...]
    args: str
    help: str
    build: Callable[[str | None, WorkflowSettings], Request]
    states: tuple[str, ...]  # the states it moves to: the transitions into them say who may use it

    @property
    def slash_name(self) -> str:
        """The name to teach as `/name`: one that reaches the bot through GitLab."""
        return next(n for n in (self.name, *self.aliases) if n not in GITLAB_QUICK_ACTIONS)


REGISTRY: dict[str, CommandSpec] = {}
_BY_VERB: dict[str, CommandSpec] = {}


def command(
    name: str, *, aliases: tuple[str, ...] = (), args: str = "", help: str, states: tuple[str, ...] = ()
) -> Callable:
    """Register the decorated `build(argument, workflow) -> Request` as the command `name`."""

    def register(build: Callable[[str | None, WorkflowSettings], Request]) -> Callable:
        spec = CommandSpec(name=name, aliases=aliases, args=args, help=help, build=build, states=states)
        REGISTRY[name] = spec
        for verb in (name, *aliases):
            _BY_VERB[verb] = spec
        return build

    return register


@command("approve", aliases=("accept",), help="approve the match", states=("approved",))
def _approve(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("approved", argument)


@command("reject", args="[reason]", help="reject the match, optionally saying why", states=("rejected",))
def _reject(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("rejected", argument)


@command("send", args="[note]", help="record that the application was sent", states=("sent",))
def _send(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("sent", argument)


@command(
    "confirm-send", args="[note]",
    help="send after the bot asked because someone who may not send changed the recipient or draft "
         "(for those who may send)",
    states=("sent",),
)
def _confirm_send(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("sent", argument, confirmed=True)


@command("reopen-match", help="put the match back up for review", states=("pending",))
def _reopen(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo(workflow.initial_state, argument)


# -- the application's life after sending (none of these verbs is a GitLab quick action) ----


def _needs(argument: str | None, usage: str, request: MoveTo) -> Request:
    return request if argument else Incomplete(usage)


@command("reply", args="<summary>", help="record an answer from the employer (ends no-reply)",
         states=("sent", "interview", "offer"))
def _reply(argument: str | None, workflow: WorkflowSettings) -> Request:
    return _needs(argument, "/reply <summary>", MoveTo("sent", argument, Happening("reply")))


@command("interview", args="<when> [with …] [note]",
         help="record an interview round: when (2026-12-10 14:00, 10.12. 14:00, tomorrow 9:30), with whom, a note",
         states=("interview",))
def _interview(argument: str | None, workflow: WorkflowSettings) -> Request:
    return _needs(argument, "/interview <when> [with …] [note]", MoveTo("interview", None, Happening("round", argument)))


@command("offer", args="<terms>", help="record an offer (rate, start, duration)", states=("offer",))
def _offer(argument: str | None, workflow: WorkflowSettings) -> Request:
    return _needs(argument, "/offer <terms>", MoveTo("offer", argument, Happening("offer")))


@command("hired", args="[note]", help="the offer was accepted (closes the issue)", states=("hired",))
def _hired(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("hired", argument)


@command("decline", args="<reason>", help="you said no to them (closes the issue)", states=("declined",))
def _decline(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("declined", argument)


@command("turned-down", args="<reason>", help="the employer said no (closes the issue)", states=("turned-down",))
def _turned_down(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("turned-down", argument)


@command("withdraw", args="<reason>", help="you withdrew the application (closes the issue)",
         states=("withdrawn",))
def _withdraw(argument: str | None, workflow: WorkflowSettings) -> Request:
    return MoveTo("withdrawn", argument)


@command("help", help="show this list")
def _help(argument: str | None, workflow: WorkflowSettings) -> Request:
    return ShowHelp()


@dataclass(frozen=True)
class Command:
    """One command line found in a comment. `spec` is None for a verb we do not know."""

    verb: str
    argument: str | None
    spec: CommandSpec | None

    def request(self, workflow: WorkflowSettings) -> Request:
        if self.spec is None:
            return ShowHelp(unknown=self.verb)
        return self.spec.build(self.argument, workflow)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_BLOCKQUOTE_FENCE = re.compile(r"^ {0,3}>>>")
_SLASH = re.compile(r"^ {0,3}/([A-Za-z][\w-]*)(?:[ \t]+(.*))?$")


def _mention(bot_username: str) -> re.Pattern[str]:
    return re.compile(rf"^ {{0,3}}@{re.escape(bot_username)}[ \t]+([A-Za-z][\w-]*)(?:[ \t]+(.*))?$", re.IGNORECASE)


def _live_lines(body: str) -> list[str]:
    """The lines of `body` that can hold a command: not code, not quoted."""
    kept: list[str] = []
    fence: str | None = None
    quoted = False
    for line in body.replace("\r\n", "\n").split("\n"):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
        elif _BLOCKQUOTE_FENCE.match(line):
            quoted = not quoted
        elif not quoted and not line.lstrip().startswith(">"):
            kept.append(line)
    # Inline code spans, even across lines, become an inert placeholder that keeps line breaks.
    text = _INLINE_CODE.sub(lambda m: "\x00" + "\n" * m.group(0).count("\n"), "\n".join(kept))
    return text.split("\n")


def parse_commands(body: str, bot_username: str) -> list[Command]:
    """Every command in a comment, in the order written."""
    mention = _mention(bot_username)
    found: list[Command] = []
    for line in _live_lines(body or ""):
        match = _SLASH.match(line) or mention.match(line)
        if not match:
            continue
        verb = match.group(1).lower()
        argument = (match.group(2) or "").strip()[:MAX_ARGUMENT_CHARS] or None
        found.append(Command(verb=verb, argument=argument, spec=_BY_VERB.get(verb)))
    return found
