"""Untrusted text made inert, in one place.

Everything a match, a comment or a payload carries passes through here on its way into a
template (bot/render.py applies these as each template's finalize step), so no job title can run
a GitLab quick action, mention `@all`, render HTML, or hide a link target; no Slack message can
ping `<!channel>`; no WhatsApp text carries invisible direction tricks.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from urllib.parse import quote, urlsplit

# Line and paragraph separators other than "\n": GitLab (Ruby) does not see them as line breaks,
# a browser may; they become ordinary newlines so every line is escaped as a line.
_LINE_BREAKS = re.compile("\r\n|[\r\u0085\u2028\u2029\x0b\x0c]")
# Markdown punctuation that can start a link, image, emphasis, heading, table cell, strikethrough,
# math, or a GitLab reference (@user, #issue, !mr, ~label, %milestone, $snippet). Backticks
# become `&#96;` instead: an entity can never open or close a code span, an escaped one can in
# parsers less careful than GitLab's.
_MARKDOWN_SPECIAL = re.compile(r"([\\*_{}\[\]()#!|~@$%])")
# What may start a line and turn it into a quick action, a list, a heading underline or a rule.
# An ordered list's `1.` is escaped after its digits (`1\.`): a backslash before a digit escapes
# nothing and would show. (`1)` needs nothing more: `)` is escaped everywhere.)
_LINE_START = re.compile(r"(?m)^([ \t]*(?:\d+(?=\.))?)([/=\-+]|(?<=\d)\.)")
# A mention in a single-line field (titles): GitLab renders titles without Markdown, so a
# backslash does not stop `@all`; a fullwidth at sign reads the same and mentions nobody.
_TITLE_MENTION = re.compile(r"@(?=[\w.\-])")
_CUT_NOTE = " … [cut: {} more characters]"


def _code_point_ranges(categories: tuple[str, ...], keep: str) -> list[tuple[int, int]]:
    """Every code point of `categories` except those in `keep`, as (first, last) ranges."""
    ranges: list[tuple[int, int]] = []
    start = None
    for code in range(sys.maxunicode + 2):
        inside = code <= sys.maxunicode and chr(code) not in keep and unicodedata.category(chr(code)) in categories
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, code - 1))
            start = None
    return ranges


def _character_class(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]")


# Control, format (zero-width, bidirectional, tag) and surrogate characters: invisible, able to
# make text read differently from what it is, or (lone surrogates, valid in JSON) unsendable.
_UNWANTED_CATEGORIES = (("Cc", "Cf", "Cs"), "\n\t")
# `_code_point_ranges(*_UNWANTED_CATEGORIES)` for Unicode 14.0.0 (Python 3.11), written out:
# scanning all 1.1 million code points takes ~0.3 s, too long for every start of the bot.
_UNWANTED_RANGES_14 = [
    (0x0, 0x8), (0xB, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C),
    (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
]
_UNWANTED = _character_class(
    _UNWANTED_RANGES_14 if unicodedata.unidata_version == "14.0.0" else _code_point_ranges(*_UNWANTED_CATEGORIES)
)


def clean_text(text: object) -> str:
    """Text without control, format or surrogate characters; tab and newline stay, and every
    other line separator becomes a newline."""
    return _UNWANTED.sub("", _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", str(text))))


def _grapheme_safe(text: str, end: int) -> int:
    """`end` moved back so that a cut there leaves no combining mark without its base."""
    while 0 < end < len(text) and (
        unicodedata.combining(text[end]) or unicodedata.category(text[end]) in ("Mn", "Mc", "Me")
    ):
        end -= 1
    return end


def cut(text: str, max_chars: int | None) -> str:
    """Shorten `text` to about `max_chars`, saying visibly how much was cut."""
    if max_chars is None or len(text) <= max_chars:
        return text
    end = _grapheme_safe(text, max_chars)
    return text[:end] + _CUT_NOTE.format(len(text) - end)


def escape_markdown(text: object, max_chars: int | None = None) -> str:
    """GitLab-flavoured Markdown that shows `text` literally and does nothing else.

    Backslash escapes stop links, images, emphasis and references; `\\@` is GitLab's own
    way to write an @ that mentions nobody; a backslash before a leading `/` keeps a line from
    being a quick action; `<`, `>`, `&` and backticks become entities so no HTML renders, no
    code span or fence opens, and no hidden comment (a forged marker) can be opened.
    """
    value = cut(clean_text(text), max_chars)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "&#96;")
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", value)


def escape_markdown_cell(text: object, max_chars: int | None = None) -> str:
    """Like `escape_markdown`, for one table cell: newlines become `<br>`."""
    return escape_markdown(text, max_chars).replace("\n", "<br>")


def code_span(text: object, max_chars: int | None = None) -> str:
    """An inline code span that shows `text` literally, on one line.

    Inside a code span backslashes and entities show as they are, so nothing is escaped there:
    backticks (which could close the span) are dropped and line breaks become spaces (so no
    line inside can start a quick action).
    """
    value = " ".join(cut(clean_text(text), max_chars).replace("`", "").split())
    return f"`{value}`" if value else ""


# Characters that let Markdown or an earlier GitLab reference filter (user, issue, merge request,
# snippet, milestone) claim part of the text before the label filter sees `~"name"`; `"` would
# end the name. An `_` is only inert between two letters or digits (no emphasis opens there).
_NOT_IN_LABEL_REFERENCE = re.compile(r'["`\\*\[\]<>&~@#!$%]|(?<![^\W_])_|_(?![^\W_])')


def label_reference(name: object, max_chars: int | None = None) -> str:
    """GitLab's reference to the label `name` (`~"name"`), shown as a link to the label.

    A name the reference cannot carry unchanged is shown as a code span instead: still exact,
    just not a link.
    """
    value = " ".join(clean_text(name).split())
    if value and not _NOT_IN_LABEL_REFERENCE.search(value):
        return f'~"{value}"'
    return code_span(value, max_chars)


def plain_title(text: object, limit: int = 255) -> str:
    """A one-line title of at most `limit` characters (GitLab's limit), cut on a character.

    Titles are not Markdown and quick actions never run in them, but GitLab does find mentions
    in them, so `@name` is written with a fullwidth at sign.
    """
    value = _TITLE_MENTION.sub("\uff20", " ".join(clean_text(text).split()))
    if len(value) <= limit:
        return value
    return value[: _grapheme_safe(value, limit - 1)].rstrip() + "…"


# ASCII signs that can make a reference (`#12`, `g/p#12`, `!3`, `@all`, `~label`, a URL) or
# markup: in a commit message each becomes its fullwidth twin (U+FF01-FF5E), which reads the same.
_COMMIT_SIGNS = re.compile(r"[!\"#$%&*+/:;<=>?@\[\\\]^`{|}~]")


def commit_line(text: object, limit: int = 200) -> str:
    """`text` as one inert line of a commit message. GitLab reads commit messages for closing
    patterns ("Closes #12", also in the middle of a line, also with a URL) and mentions."""
    value = " ".join(clean_text(text).split())[:limit]
    return _COMMIT_SIGNS.sub(lambda m: chr(ord(m.group(0)) + 0xFEE0), value)


def safe_url(url: object) -> str | None:
    """`url` fit to be a link target, or None when it must stay text.

    Only absolute http(s) URLs with a host qualify (no `javascript:`, `data:`, relative or
    protocol-relative tricks). Characters that could end a Markdown link target are
    percent-encoded, so what the link opens is exactly what its visible text says.
    """
    value = clean_text(url).strip()
    if not value or any(ch.isspace() for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(value, safe="/:?#@!$&*+,;=%~-._")


def markdown_link(url: object, max_chars: int | None = None) -> str:
    """A Markdown link whose visible text is the URL itself, or the escaped text if not a URL."""
    target = safe_url(url)
    visible = escape_markdown(url, max_chars).strip()
    if target is None:
        return visible
    return f"[{visible}]({target})"


def escape_slack(text: object, max_chars: int | None = None) -> str:
    """Slack mrkdwn: `&`, `<`, `>` escaped, so no `<!channel>`, `<@U123>` or `<url|lie>`."""
    value = cut(clean_text(text), max_chars)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_plain(text: object, max_chars: int | None = None) -> str:
    """Plain text (WhatsApp, the text part of an e-mail): only cleaned and cut."""
    return cut(clean_text(text), max_chars)
