"""What GitLab removes from a note before saving it, and how it reads the arguments."""

from __future__ import annotations

import pytest

from bot.sandbox.quick_actions import (
    ISSUE_EXECUTABLE,
    MR_ONLY,
    QUICK_ACTIONS,
    QuickAction,
    could_not_apply,
    extract_quick_actions,
    find_mentions,
    parse_emoji_arg,
    parse_label_args,
    parse_user_args,
)

A = QuickAction

EXTRACTION = [
    # (note as written, note as saved, actions removed)
    ("/approve", "", [A("approve", "", 1)]),
    ("Looks good\n/approve\nthanks", "Looks good\nthanks", [A("approve", "", 2)]),
    ("/reject too junior", "/reject too junior", []),
    ("/accept\n/send\n/help\n/reopen-match", "/accept\n/send\n/help\n/reopen-match", []),
    ("/REJECT too junior\n/Label ~\"job-match/approved\"", "/REJECT too junior",
     [A("label", '~"job-match/approved"', 2)]),
    ("/CLOSE", "", [A("close", "", 1)]),
    ("/closed", "/closed", []),
    ("/close now please", "", [A("close", "now please", 1)]),
    (" /close", " /close", []),
    ("see /close", "see /close", []),
    ("/labels ~a ~\"b c\"", "", [A("labels", '~a ~"b c"', 1)]),
    ("/remove_label ~a\n/react :tada:", "", [A("remove_label", "~a", 1), A("react", ":tada:", 2)]),
    # fenced code, both fence kinds, and an unclosed fence
    ("```\n/close\n```\n/close", "```\n/close\n```", [A("close", "", 4)]),
    ("~~~ text\n/close\n~~~", "~~~ text\n/close\n~~~", []),
    ("````\n/close\n```\n/close", "````\n/close\n```\n/close", []),
    # inline code spanning lines, and inline code on the command line itself
    ("`\n/close\n`", "`\n/close\n`", []),
    ("`/close`", "`/close`", []),
    # HTML blocks: <pre> runs to its closing tag, <details> to the next blank line
    ("<details>\n/close\n</details>", "<details>\n/close\n</details>", []),
    ("<pre>\n\n/close\n\n</pre>\nx", "<pre>\n\n/close\n\n</pre>\nx", []),
    ("<!--\n/close\n-->", "<!--\n/close\n-->", []),
    # quotes: >>> fences, > quotes and their lazy continuation lines
    (">>>\n/close\n>>>\n/reopen", ">>>\n/close\n>>>", [A("reopen", "", 4)]),
    ("> quote\n/close", "> quote\n/close", []),
    ("> quote\n\n/close", "> quote", [A("close", "", 3)]),
    # list items keep their lazy lines; a blank line ends the list
    ("- item\n/close", "- item\n/close", []),
    ("- item\n\n/close", "- item", [A("close", "", 3)]),
    # a paragraph underlined with --- is a heading, not a paragraph
    ("/close\n---", "/close\n---", []),
    ("# title\n/close", "# title", [A("close", "", 2)]),
    # whitespace: a removed line takes the blank line after it; CR and trailing blanks go
    ("hi\n/close\n\nbye", "hi\nbye", [A("close", "", 2)]),
    ("a\r\n/close\r\nb  \n\n", "a\nb", [A("close", "", 2)]),
    ("text   \n\n\n", "text", []),
    # substitutions replace their line instead of being removed
    ("/shrug whatever\nx", "¯\\＿(ツ)＿/¯\nx", []),
    ("/tableflip", "(╯°□°)╯︵ ┻━┻", []),
]


@pytest.mark.parametrize(("written", "saved", "actions"), EXTRACTION)
def test_extraction(written, saved, actions):
    extracted = extract_quick_actions(written)
    assert extracted.text == saved
    assert extracted.actions == actions


def test_commands_the_bot_needs_are_not_gitlab_quick_actions():
    assert not {"reject", "accept", "send", "help", "reopen-match"} & QUICK_ACTIONS


def test_gitlab_list_is_complete_enough_to_hide_what_gitlab_hides():
    for name in ("approve", "assign_reviewer", "request_review", "blocked_by", "checkin_reminder",
                 "estimate_time", "promote_to_incident", "remove_time_estimate", "spend",
                 "spent", "submit_review", "timeline", "unassign_reviewer", "remove_reviewer",
                 "set_parent", "add_child", "status", "todo", "done", "weight", "iteration"):
        assert name in QUICK_ACTIONS, name


def test_executable_actions_are_issue_actions_and_the_rest_say_so():
    assert ISSUE_EXECUTABLE <= QUICK_ACTIONS
    assert not ISSUE_EXECUTABLE & MR_ONLY
    assert could_not_apply("approve") == "Could not apply approve command."


@pytest.mark.parametrize(("name", "command"), [
    ("remove_label", "unlabel"), ("react", "award"), ("labels", "label"), ("close", "close"),
])
def test_aliases_resolve_to_one_command(name, command):
    assert QuickAction(name, "", 1).command == command


@pytest.mark.parametrize(("args", "labels"), [
    ('~a ~"b c" ~"job-match/approved"', ["a", "b c", "job-match/approved"]),
    ("~job-match/approved", ["job-match"]),          # why GitLab needs the quotes
    ('bug "needs review" bug', ["bug", "needs review"]),
    ("~a bare", ["a"]),                               # mixed syntax: GitLab ignores bare words
    ("~what? ~end.", ["what", "end"]),
    ("", []),
])
def test_label_args(args, labels):
    assert parse_label_args(args) == labels


@pytest.mark.parametrize(("args", "users"), [
    ("@alice @bob", ["alice", "bob"]),
    ("me", ["me"]),
    ("@alice, @bob and carol @alice", ["alice", "bob", "carol"]),
    ("", []),
])
def test_user_args(args, users):
    assert parse_user_args(args) == users


@pytest.mark.parametrize(("args", "emoji"), [
    (":thumbsup:", "thumbsup"), (" :+1: ", "+1"), ("thumbsup", None), (":x", None),
])
def test_emoji_arg(args, emoji):
    assert parse_emoji_arg(args) == emoji


@pytest.mark.parametrize(("text", "mentions"), [
    ("hi @alice and @bob.", ["alice", "bob"]),
    ("mail alice@example.com or x.y@example.org", []),
    ("not \\@carol", []),
    ("code `@dave` and ``a ` @erin``", []),
    ("```\n@frank\n```\n@grace", ["grace"]),
    ("@all please look", ["all"]),
    ("@Heidi and @heidi", ["Heidi"]),
    ("(@ivan)", ["ivan"]),
])
def test_mentions(text, mentions):
    assert find_mentions(text) == mentions
