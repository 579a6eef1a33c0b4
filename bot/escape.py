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
_LINE_START = re.compile(r"(?m)^([ \t]*)([/=\-+]|\d+[.)])")
# A mention in a single-line field (titles): GitLab renders titles without Markdown, so a
# backslash does not stop `@all`; a fullwidth at sign reads the same and mentions nobody.
_TITLE_MENTION = re.compile(r"@(?=[\w.\-])")
_CUT_NOTE = " … [cut: {} more characters]"


def _character_class(categories: tuple[str, ...], keep: str) -> re.Pattern[str]:
    """A regex matching every code point of `categories` except those in `keep`, as ranges."""
    ranges: list[str] = []
    start = None
    for code in range(sys.maxunicode + 2):
        inside = code <= sys.maxunicode and chr(code) not in keep and unicodedata.category(chr(code)) in categories
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append(f"\\U{start:08x}-\\U{code - 1:08x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


# Control, format (zero-width, bidirectional, tag) and surrogate characters: invisible, able to
# make text read differently from what it is, or (lone surrogates, valid in JSON) unsendable.
_UNWANTED = _character_class(("Cc", "Cf", "Cs"), keep="\n\t")


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


def plain_title(text: object, limit: int = 255) -> str:
    """A one-line title of at most `limit` characters (GitLab's limit), cut on a character.

    Titles are not Markdown and quick actions never run in them, but GitLab does find mentions
    in them, so `@name` is written with a fullwidth at sign.
    """
    value = _TITLE_MENTION.sub("\uff20", " ".join(clean_text(text).split()))
    if len(value) <= limit:
        return value
    return value[: _grapheme_safe(value, limit - 1)].rstrip() + "…"


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
