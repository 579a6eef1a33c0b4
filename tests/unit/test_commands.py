"""Comment command parsing: where a command counts, and what it asks for."""

from __future__ import annotations

import pytest

from bot.commands import REGISTRY, MoveTo, ShowHelp, parse_commands
from bot.config.settings import load_settings

WORKFLOW = load_settings().workflow
BOT = "vorhoelle"


def verbs(body: str) -> list[tuple[str, str | None]]:
    return [(c.verb, c.argument) for c in parse_commands(body, BOT)]


def test_slash_and_mention_forms_with_arguments() -> None:
    body = "Looks off.\n/reject too junior\n@Vorhoelle send via the portal\n@vorhoelle help"
    assert verbs(body) == [("reject", "too junior"), ("send", "via the portal"), ("help", None)]


def test_aliases_resolve_to_the_same_command() -> None:
    (accept,) = parse_commands("/accept", BOT)
    (approve,) = parse_commands("@vorhoelle approve", BOT)
    assert accept.spec is approve.spec is REGISTRY["approve"]
    assert accept.request(WORKFLOW) == MoveTo("approved")


def test_reopen_goes_back_to_the_initial_state() -> None:
    (reopen,) = parse_commands("/reopen-match wrong call", BOT)
    assert reopen.request(WORKFLOW) == MoveTo(WORKFLOW.initial_state, "wrong call")


@pytest.mark.parametrize(
    "body",
    [
        "```\n/reject\n```",
        "~~~python\n@vorhoelle approve\n~~~",
        "> /reject quoted from someone\n",
        ">>>\n/reject in a quote block\n>>>",
        "`/reject` is how you reject",
        "see `multi\n/reject` inline code",
        "please /reject this",
        "/etc/hosts is broken",
        "    /reject (indented code)",
        "@vorhoelle, what do you think?",
        "@someone-else approve",
    ],
)
def test_no_command_outside_live_lines(body: str) -> None:
    assert verbs(body) == []


def test_code_fence_closes_and_later_commands_count() -> None:
    assert verbs("```\n/accept\n```\n/reject after the code") == [("reject", "after the code")]


def test_several_commands_keep_their_order() -> None:
    assert [v for v, _ in verbs("/accept\n/send\n/help")] == ["accept", "send", "help"]


def test_unknown_verbs_ask_for_help() -> None:
    (slash,) = parse_commands("/frobnicate now", BOT)
    (mention,) = parse_commands("@vorhoelle frobnicate", BOT)
    assert slash.spec is None and slash.request(WORKFLOW) == ShowHelp(unknown="frobnicate")
    assert mention.request(WORKFLOW) == ShowHelp(unknown="frobnicate")


def test_help_teaches_a_slash_form_gitlab_does_not_swallow() -> None:
    assert REGISTRY["approve"].slash_name == "accept"
    assert {spec.slash_name for spec in REGISTRY.values()} >= {"reject", "send", "reopen-match", "help"}


def test_windows_line_endings_and_long_arguments() -> None:
    (reject,) = parse_commands("hi\r\n/reject " + "x" * 5000 + "\r\n", BOT)
    assert reject.argument is not None and len(reject.argument) == 2000
