"""Quick actions as GitLab sees them: which lines it removes from a note or description.

GitLab removes every line `/<name> [args]` whose name is one of its quick actions, whether or not
the action applies to the target, before the text is saved and before any webhook sees it. The
sandbox must do the same, or the bot would be tested against text no real GitLab delivers (an
`/approve` on an issue, for instance, never reaches a bot). This module is pure text: it finds
and removes the actions; the sandbox's routes decide what to execute.

The rules follow GitLab's `Gitlab::QuickActions::Extractor`: only lines of top-level Markdown
paragraphs are looked at (never code blocks, HTML blocks, block quotes including `>>>` fences,
list items or headings); inside a paragraph, inline code and `<tag>…</tag>` spans are skipped;
a removed line takes the whitespace after it along; `/shrug` and `/tableflip` are substituted,
not removed; carriage returns are dropped and trailing whitespace is stripped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ISSUE_ACTIONS = frozenset({
    "add_child", "add_contacts", "add_email", "assign", "award", "blocked_by", "blocks",
    "board_move", "clear_health_status", "clear_weight", "clone", "close", "confidential",
    "convert_to_ticket", "copy_metadata", "create_merge_request", "done", "due", "duplicate",
    "epic", "estimate", "estimate_time", "health_status", "invite_email", "iteration", "label",
    "labels", "link", "lock", "milestone", "move", "page", "promote", "promote_to",
    "promote_to_incident", "publish", "react", "reassign", "relabel", "relate", "remove_child",
    "remove_contacts", "remove_due_date", "remove_email", "remove_epic", "remove_estimate",
    "remove_iteration", "remove_label", "remove_milestone", "remove_parent", "remove_time_estimate",
    "remove_time_spent", "remove_weight", "remove_zoom", "reopen", "set_parent", "severity",
    "spend", "spend_time", "spent", "status", "subscribe", "timeline", "title", "todo", "type",
    "unassign", "unlabel", "unlink", "unlock", "unsubscribe", "weight", "zoom",
})
"""Actions GitLab applies to issues (and incidents), aliases included."""

MR_ONLY = frozenset({
    "approve", "assign_reviewer", "draft", "merge", "ready", "reassign_reviewer", "rebase",
    "remove_reviewer", "request_changes", "request_review", "reviewer", "submit_review",
    "target_branch", "unapprove", "unassign_reviewer",
})
"""Merge-request actions: removed from an issue's text, never applied to it."""

EPIC_ONLY = frozenset({
    "checkin_reminder", "child_epic", "parent_epic", "remove_child_epic", "remove_parent_epic",
})
"""Epic and OKR actions (legacy epics, check-in reminders)."""

COMMIT_ONLY = frozenset({"tag"})

SUBSTITUTIONS = {"shrug": "¯\\＿(ツ)＿/¯", "tableflip": "(╯°□°)╯︵ ┻━┻"}
"""Actions that replace their line with text instead of removing it."""

QUICK_ACTIONS = ISSUE_ACTIONS | MR_ONLY | EPIC_ONLY | COMMIT_ONLY | frozenset(SUBSTITUTIONS)
"""Every quick action name (and alias) GitLab defines. `/reject`, `/accept`, `/send`, `/help`
are not among them, so GitLab leaves them in the text for bots to read."""

ALIASES = {
    "labels": "label", "remove_label": "unlabel", "react": "award", "estimate_time": "estimate",
    "remove_time_estimate": "remove_estimate", "spent": "spend", "spend_time": "spend",
    "reviewer": "assign_reviewer", "remove_reviewer": "unassign_reviewer",
    "invite_email": "add_email",
}

ISSUE_EXECUTABLE = frozenset({
    "label", "labels", "unlabel", "remove_label", "relabel", "close", "reopen", "assign",
    "unassign", "title", "confidential", "award", "react", "todo", "done", "duplicate",
})
"""Names (aliases included) the sandbox executes on an issue; the rest answer
`could_not_apply(name)`."""

@dataclass
class QuickAction:
    """One removed line: `name` lower-cased as written, `args` stripped, `line` 1-based."""

    name: str
    args: str
    line: int

    @property
    def command(self) -> str:
        """The canonical name, aliases resolved (`remove_label` -> `unlabel`, `react` -> `award`)."""
        return ALIASES.get(self.name, self.name)


@dataclass
class Extracted:
    """The text as GitLab saves it, and the actions removed from it, in order."""

    text: str
    actions: list[QuickAction]


def could_not_apply(name: str) -> str:
    """GitLab's answer for an action that does not apply to the target."""
    return f"Could not apply {name} command."


# --- Extraction -------------------------------------------------------------------------------

_WS = r"[ \t\n\f\v]"          # Ruby's \s; Python's would also match Unicode spaces.


def _alternation(names: frozenset[str] | dict[str, str]) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_PARAGRAPH_SCAN = re.compile(
    r"(?P<inline_code>`.+?`)"
    r"|(?P<html>^<[^>]+?>\n.+?\n</[^>]+?>$)"
    rf"|^/(?P<cmd>{_alternation(QUICK_ACTIONS - frozenset(SUBSTITUTIONS))})"
    rf"(?:[ ](?P<arg>[^\n]*))?(?:{_WS}*\n|$)"
    rf"|^/(?P<sub>{_alternation(SUBSTITUTIONS)})(?:[ ][^\n]*)?(?:{_WS}*\n|$)",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)


def extract_quick_actions(text: str) -> Extracted:
    """Remove quick-action lines outside code, HTML blocks and quotes, as GitLab does."""
    lines = _split_lines(text.replace("\r", ""))
    actions: list[QuickAction] = []
    for start, end in _top_level_paragraphs(lines):
        if end + 1 < len(lines) and lines[end + 1] == "\n":
            end += 1              # GitLab takes the blank line after a paragraph along
        paragraph = _extract_from_paragraph("".join(lines[start:end + 1]), start + 1, actions)
        lines[start:end + 1] = [paragraph] + [""] * (end - start)
    return Extracted("".join(lines).rstrip(" \t\n\f\v\0"), actions)


def _extract_from_paragraph(paragraph: str, first_line: int, actions: list[QuickAction]) -> str:
    """`paragraph` without its quick-action lines; appends what it removed to `actions`."""

    def replace(match: re.Match[str]) -> str:
        if match["cmd"]:
            line = first_line + paragraph.count("\n", 0, match.start())
            actions.append(QuickAction(match["cmd"].lower(), (match["arg"] or "").strip(), line))
            return ""
        if match["sub"]:
            return _substitute(match["sub"].lower(), match[0])
        return match[0]           # inline code or an HTML span: left alone

    return _PARAGRAPH_SCAN.sub(replace, paragraph)


def _substitute(name: str, matched: str) -> str:
    pattern = rf"/{name}(?!\S) ?(.*)$"
    return re.sub(pattern, lambda _: SUBSTITUTIONS[name], matched, count=1, flags=re.I | re.M)


def _split_lines(text: str) -> list[str]:
    """Lines with their `\\n`, like Ruby's `String#lines` (unlike `str.splitlines`)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


# --- A small CommonMark block scanner: where the top-level paragraphs are ------------------------

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}(?=[^`]*$)|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_QUOTE = re.compile(r"^ {0,3}>")
_QUOTE_FENCE = re.compile(r"^>>>[ \t]*$")
_LIST_ITEM = re.compile(r"^(?P<indent> {0,3})(?P<marker>[-+*]|\d{1,9}[.)])(?P<gap>[ \t]+|$)(?P<rest>.*)")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|"
    "h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|"
    "option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
# (start, end) per CommonMark HTML block kind; end None = the block ends at a blank line.
_HTML_BLOCKS: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = [
    (re.compile(r"^ {0,3}<(?:script|pre|textarea|style)(?:[ \t>]|$)", re.I),
     re.compile(r"</(?:script|pre|textarea|style)>", re.I)),
    (re.compile(r"^ {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r"^ {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r"^ {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"^ {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"^ {{0,3}}</?(?:{_HTML_BLOCK_TAGS})(?:[ \t>]|/>|$)", re.I), None),
]
_HTML_ANY_TAG = re.compile(
    r"^ {0,3}(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'"
    r"|\"[^\"]*\"))?)*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*$"
)


def _top_level_paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """0-based inclusive line ranges of the paragraphs that sit directly in the document."""
    raw = [line.rstrip("\n") for line in lines]
    paragraphs: list[tuple[int, int]] = []
    start: int | None = None          # first line of the open top-level paragraph
    container: str | None = None      # "quote" or "list" while one is open
    content_indent = 0                # how far a list item's continuation lines are indented
    lazy = False                      # the container ends in paragraph text (lazy lines join it)
    after_blank = False
    i = 0
    while i < len(raw):
        line = raw[i]
        blank = not line.strip()

        if container:
            if blank:
                lazy, after_blank = False, True
                if container == "quote":
                    container = None
                i += 1
                continue
            if container == "list":
                item = _LIST_ITEM.match(line)
                indent = len(line) - len(line.lstrip(" "))
                if indent >= content_indent or (not after_blank and lazy and not _starts_block(line)):
                    i, after_blank = i + 1, False
                    continue
                if item:
                    content_indent, lazy = _list_content_indent(item), bool(item["rest"].strip())
                    i, after_blank = i + 1, False
                    continue
            elif _QUOTE.match(line) and not _QUOTE_FENCE.match(line):
                lazy = bool(line.lstrip(" ")[1:].strip())
                i += 1
                continue
            elif lazy and not _starts_block(line):
                i += 1
                continue
            container, lazy = None, False
        after_blank = False

        if blank:
            if start is not None:
                paragraphs.append((start, i - 1))
                start = None
            i += 1
            continue

        if start is not None and _SETEXT_UNDERLINE.match(line):
            start = None              # the paragraph was a heading
            i += 1
            continue

        end = _block_end(raw, i, in_paragraph=start is not None)
        if end is not None:
            if start is not None:
                paragraphs.append((start, i - 1))
                start = None
            if end < 0:               # a container opens on this line
                item = _LIST_ITEM.match(line)
                if item:
                    container, content_indent = "list", _list_content_indent(item)
                    lazy = bool(item["rest"].strip())
                else:
                    container, lazy = "quote", bool(line.lstrip(" ")[1:].strip())
                i += 1
            else:
                i = end + 1
            continue

        if start is None:
            if _INDENTED.match(line):
                i += 1                # indented code block
                continue
            start = i
        i += 1

    if start is not None:
        paragraphs.append((start, len(raw) - 1))
    return paragraphs


def _block_end(raw: list[str], i: int, *, in_paragraph: bool) -> int | None:
    """If line `i` starts a non-paragraph block: its last line, or -1 for a container.

    None when the line is paragraph text (or cannot interrupt the open paragraph).
    """
    line = raw[i]
    if _QUOTE_FENCE.match(line):
        closing = next((j for j in range(i + 1, len(raw)) if _QUOTE_FENCE.match(raw[j])), None)
        return closing if closing is not None else -1
    fence = _FENCE.match(line)
    if fence:
        return _fence_end(raw, i, fence["fence"])
    if _ATX_HEADING.match(line) or _THEMATIC_BREAK.match(line):
        return i
    for start_pattern, end_pattern in _HTML_BLOCKS:
        if start_pattern.match(line):
            return _html_block_end(raw, i, end_pattern)
    if not in_paragraph and _HTML_ANY_TAG.match(line):
        return _html_block_end(raw, i, None)
    if _QUOTE.match(line):
        return -1
    item = _LIST_ITEM.match(line)
    if item and (not in_paragraph or _can_interrupt_paragraph(item)):
        return -1
    return None


def _fence_end(lines: list[str], i: int, mark: str) -> int:
    """The closing line of the code fence `mark` opened on line `i` (unclosed: the last line)."""
    closing = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
    return next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines) - 1)


def _starts_block(line: str) -> bool:
    """Whether `line` would end a lazy continuation (it opens a block of its own)."""
    return _block_end([line], 0, in_paragraph=True) is not None


def _html_block_end(raw: list[str], i: int, end_pattern: re.Pattern[str] | None) -> int:
    for j in range(i, len(raw)):
        if end_pattern is None and j > i and not raw[j].strip():
            return j - 1
        if end_pattern is not None and end_pattern.search(raw[j]):
            return j
    return len(raw) - 1


def _can_interrupt_paragraph(item: re.Match[str]) -> bool:
    marker = item["marker"]
    return bool(item["rest"].strip()) and (marker in "-+*" or marker[:-1] == "1")


def _list_content_indent(item: re.Match[str]) -> int:
    gap = len(item["gap"].expandtabs(4))
    if gap > 4 or not item["rest"].strip():
        gap = 1
    return len(item["indent"]) + len(item["marker"]) + gap


# --- Arguments ----------------------------------------------------------------------------------

_LABEL_REFERENCE = re.compile(r'~(?:"(?P<quoted>[^"]+)"|(?P<word>[A-Za-z0-9_\-?.&]+(?<![.?])))')
_WORD_OR_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def parse_label_args(args: str) -> list[str]:
    """`~a ~"b c"` -> `["a", "b c"]`; without any `~`, bare words and quoted names count.

    Mixed syntax is not supported, as in GitLab: once a `~` appears, bare words are ignored.
    Unquoted references stop at characters a label reference cannot hold, so
    `~job-match/approved` means `job-match` (write `~"job-match/approved"`).
    """
    if "~" in args:
        names = [m["quoted"] or m["word"] for m in _LABEL_REFERENCE.finditer(args)]
    else:
        names = [quoted or word for quoted, word in _WORD_OR_QUOTED.findall(args)]
    return _unique(name for name in names if name)


def parse_user_args(args: str) -> list[str]:
    """`@a @b`, `a, b` or `me` -> usernames without `@` (`me` is left for the caller)."""
    words = (word.lstrip("@") for word in re.split(r"[\s,]+", args))
    return _unique(word for word in words if word and word != "and")


_EMOJI = re.compile(r"(?:^|(?<=[^\w:])):(?P<name>[a-z0-9_+\-]+):(?=[^\w:]|$)", re.I)


def parse_emoji_arg(args: str) -> str | None:
    """`:thumbsup:` -> `thumbsup`; None without colons (`/award thumbsup` does nothing)."""
    match = _EMOJI.search(args)
    return match["name"] if match else None


# --- Mentions -----------------------------------------------------------------------------------

_MENTION = re.compile(r"(?<![\w\\])@(?P<name>[A-Za-z0-9_.][A-Za-z0-9_.\-]*)")
_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)", re.DOTALL)


def find_mentions(text: str) -> list[str]:
    """Usernames @mentioned outside code, in order, first spelling kept (`all` included).

    An `@` after a word character (an e-mail address) or a backslash (`\\@name`) is no mention;
    a trailing dot belongs to the sentence, not the name.
    """
    names = (m["name"].rstrip(".") for m in _MENTION.finditer(_without_code(text)))
    return _unique((name for name in names if name), key=str.lower)


def _without_code(text: str) -> str:
    """`text` with fenced and indented code blocks and inline code spans blanked out."""
    lines = _split_lines(text.replace("\r", ""))
    kept: list[str] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence:
            i = _fence_end(lines, i, fence["fence"]) + 1
            kept.append("\n")
            continue
        kept.append(lines[i])
        i += 1
    return _CODE_SPAN.sub(" ", "".join(kept))


def _unique(items: Iterable[str], key: Callable[[str], str] = str) -> list[str]:
    """`items` in order, each kept once (compared by `key`)."""
    seen: set[str] = set()
    result = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            result.append(item)
    return result
