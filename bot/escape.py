"""Untrusted text made inert, in one place.

Everything a match, a comment or a payload carries passes through here on its way into a
template (bot/render.py applies these as each template's finalize step), so no job title can run
a GitLab quick action, mention `@all`, render HTML, or hide a link target; no Slack message can
ping `<!channel>`; no WhatsApp text carries invisible direction tricks.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidirectional controls: invisible, and able to make text read differently
# from what it is (e.g. a reversed file extension).
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~@])")
_LINE_START = re.compile(r"(?m)^([ \t]*)([/=\-+])")


def clean_text(text: object) -> str:
    """Text without control characters (tab and newline kept) or invisible direction marks."""
    value = unicodedata.normalize("NFC", str(text))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _INVISIBLE.sub("", value)
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def cut(text: str, max_chars: int | None) -> str:
    """Shorten `text` to about `max_chars`, saying visibly how much was cut."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return f"{text[:max_chars]} … [cut: {len(text) - max_chars} more characters]"


def escape_markdown(text: object, max_chars: int | None = None) -> str:
    """GitLab-flavoured Markdown that shows `text` literally and does nothing else.

    Backslash escapes stop links, images, emphasis and code; `\\@` is GitLab's own way to write
    an @ that mentions nobody; a backslash before a leading `/` keeps a line from being a quick
    action; `<`, `>` and `&` become entities so no HTML renders.
    """
    value = cut(clean_text(text), max_chars)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", value)


def escape_markdown_cell(text: object, max_chars: int | None = None) -> str:
    """Like `escape_markdown`, for one table cell: newlines become `<br>`."""
    return escape_markdown(text, max_chars).replace("\n", "<br>")


def plain_title(text: object, limit: int = 255) -> str:
    """A one-line title of at most `limit` characters (GitLab's limit), cut on a character."""
    value = " ".join(clean_text(text).split())
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def escape_slack(text: object, max_chars: int | None = None) -> str:
    """Slack mrkdwn: `&`, `<`, `>` escaped, so no `<!channel>`, `<@U123>` or `<url|lie>`."""
    value = cut(clean_text(text), max_chars)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_plain(text: object, max_chars: int | None = None) -> str:
    """Plain text (WhatsApp, the text part of an e-mail): only cleaned and cut."""
    return cut(clean_text(text), max_chars)
