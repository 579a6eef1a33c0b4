"""Every hostile value, through every escaper: inert by GitLab's own rules, still readable.

GitLab's rules are taken from the sandbox's implementation of them (quick-action extraction,
mention finding), the same code that decides what the sandbox executes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

import pytest

from bot.escape import (
    code_span, escape_markdown, escape_markdown_cell, label_reference, markdown_link, plain_title,
)
from bot.sandbox.quick_actions import extract_quick_actions, find_mentions
from tests.injection.hostile import HOSTILE, TWO_MB

USERS = {role: {"username": f"{role}-kobold"} for role in ("reviewer", "maintainer", "guest")}
VALUES = [v.replace("{reviewer}", "reviewer-kobold").replace("{maintainer}", "maintainer-kobold")
          .replace("{guest}", "guest-kobold") for v in HOSTILE]
IDS = [repr(v[:30]) for v in VALUES]
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def readable(markdown: str) -> str:
    """Roughly what a reader sees: backslash escapes and entities resolved."""
    return html.unescape(_UNESCAPE.sub(r"\1", markdown))


def words(value: str) -> list[str]:
    cleaned = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cf", "Cs"))
    return re.findall(r"[A-Za-z]{3,}", cleaned)[:50]


def invisible(text: str) -> list[str]:
    return [ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")]


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_markdown_runs_nothing_mentions_nobody_renders_no_html(value):
    out = escape_markdown(value, 20000)

    assert extract_quick_actions(out).actions == []
    assert find_mentions(out) == []
    assert "<" not in out and ">" not in out
    assert not re.search(r"(?<!\\)\]\(", out) and not re.search(r"(?<!\\)!\[", out)
    assert "`" not in out  # no code span or fence can open
    assert invisible(out) == []


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_markdown_keeps_the_words(value):
    shown = readable(escape_markdown(value, 20000))

    for word in words(value if len(value) < 20000 else value[:20000]):
        assert word in shown


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_a_table_cell_stays_one_cell(value):
    out = escape_markdown_cell(value, 20000)

    assert "\n" not in out
    assert not re.search(r"(?<!\\)\|", out)


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_a_title_is_one_short_line_without_mentions(value):
    title = plain_title(value)

    assert len(title) <= 255 and "\n" not in title and invisible(title) == []
    assert not re.search(r"(?<![\w\\])@[\w.\-]", title)


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_a_link_shows_exactly_where_it_goes(value):
    out = markdown_link(value, 20000)
    link = re.fullmatch(r"\[(.*)\]\((\S+)\)", out, re.S)

    if link is None:
        assert not re.search(r"(?<!\\)\]\(", out)  # no link at all, only text
        return
    visible, target = readable(link.group(1)), link.group(2)
    assert re.match(r"https?://[^/\s]", target, re.I)
    assert unquote(target) == visible
    assert not re.search(r"[\s()<>`\"\\]", target)


def test_only_http_and_https_become_links():
    assert markdown_link("https://jobs.example.com/p?q=1") == "[https://jobs.example.com/p?q=1](https://jobs.example.com/p?q=1)"
    assert markdown_link("http://jobs.example.com/a b") == "http://jobs.example.com/a b"
    for text in ("javascript:alert(1)", "data:text/html,x", "//evil.example.net/x", "ftp://files.example.com/x",
                 "/relative/path", "https://", "mailto:someone@example.com"):
        assert "](" not in markdown_link(text)


def test_a_huge_value_is_cut_with_a_visible_note():
    out = escape_markdown(TWO_MB, 20000)

    assert len(out) < 25000
    assert out.endswith(f"… \\[cut: {len(TWO_MB) - 20000} more characters\\]")


def test_a_cut_never_splits_a_character_from_its_accent():
    text = "q\u0301" * 10  # q with a combining acute: no precomposed form exists

    cut_title = plain_title("x" * 251 + text)
    cut_md = escape_markdown(text, 5)

    assert cut_title == "x" * 251 + "q\u0301" + "…"
    assert cut_md.startswith("q\u0301q\u0301 …")


@pytest.mark.skipif(unicodedata.unidata_version != "14.0.0", reason="the ranges are written out for Unicode 14.0.0")
def test_the_written_out_invisible_ranges_are_what_unicode_says():
    from bot import escape

    assert escape._code_point_ranges(*escape._UNWANTED_CATEGORIES) == escape._UNWANTED_RANGES_14


def test_a_numbered_list_shows_no_stray_backslash():
    out = escape_markdown("Why:\n1. Python\n  2. Kafka\n3) Go")

    assert out == "Why:\n1\\. Python\n  2\\. Kafka\n3\\) Go"
    assert readable(out) == "Why:\n1. Python\n  2. Kafka\n3) Go"


def test_a_title_with_line_breaks_stays_one_heading():
    from bot.staging.match import Match
    from bot.config.settings import load_settings
    from bot.staging.description import render_description

    match = Match(title="Cloud Architect\n/close\r\n\n# Fake heading", score=91)
    body = render_description(load_settings(), match, [], "vorhoelle-bot")
    heading = body.splitlines()[0]
    assert heading.startswith("## Cloud Architect ") and "close" in heading and "Fake heading" in heading
    assert not any(line.lstrip().startswith("/close") for line in body.splitlines())


def test_a_code_span_shows_its_text_unescaped_on_one_line():
    assert code_span("white_check_mark") == "`white_check_mark`"
    assert code_span("a`b\n/close") == "`ab /close`"
    assert extract_quick_actions(code_span("x\n/close")).actions == []
    assert code_span("``") == ""


@pytest.mark.parametrize("name", ["job-match/approved", "Needs review (2)", "job_match/ok", "Äpfel: ja"])
def test_a_label_a_reference_can_carry_is_referenced_verbatim(name):
    assert label_reference(name) == f'~"{name}"'


@pytest.mark.parametrize("name", ['say "yes"', "_urgent_", "job-match/*approved*", "see #12", "ping @all", "a`b"])
def test_a_label_a_reference_cannot_carry_is_shown_as_code(name):
    out = label_reference(name)

    assert out == code_span(name)
    assert find_mentions(out) == []


def test_the_review_footer_shows_configured_names_as_configured():
    from bot.staging.match import Match
    from bot.config.settings import load_settings
    from bot.staging.description import render_description

    settings = load_settings(workflow={
        "emoji": {"approve": "white_check_mark", "reject": "-1"},
        "states": {"approved": {"label": "job_match/ok (yes)"}, "rejected": {"label": '"no" thanks'}},
    })
    body = render_description(settings, Match(title="Cloud Architect", score=91), [], "vorhoelle-bot")
    footer = next(line for line in body.splitlines() if line.startswith("**How to review:**"))

    assert '~"job_match/ok (yes)"' in footer
    assert '`"no" thanks`' in footer
    assert "(`:white_check_mark:`)" in footer and "(`:-1:`)" in footer
    assert "\\" not in footer
