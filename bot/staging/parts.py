"""The parts of a staged description that `send` mails: the contact e-mail and the draft.

Staging renders them into the description (templates/issue.md.j2); sending reads them back from
there, because the description is the only copy GitLab keeps and the reviewer may polish the
draft in place. Both sides read them with the same functions, so the digest staging records in
the `match` marker (`digests`) compares like with like when `send` asks what changed since.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

_DRAFT = re.compile(r"<details><summary>Draft \(click to open\)</summary>\n\n(?P<draft>.*?)\n\n</details>", re.S)
_CONTACT = re.compile(r"^\| Contact \| (?P<contact>.*) \|$", re.M)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#!|~@/=+\-])")

RECIPIENT, DRAFT = "recipient", "draft"
PARTS = (RECIPIENT, DRAFT)


def unescape_markdown(text: str) -> str:
    """The inverse of bot.escape.escape_markdown: the text as the match engine sent it."""
    return html.unescape(_ESCAPED.sub(r"\1", text.replace("<br>", "\n")))


@dataclass(frozen=True)
class StagedParts:
    recipient: str | None  # the contact e-mail, or None when the Contact row names none
    draft: str             # the cover-letter draft, "" when there is none

    def digests(self) -> dict[str, str]:
        """One short SHA-256 per part, as the `match` marker records them under `staged`."""
        return {RECIPIENT: digest(self.recipient or ""), DRAFT: digest(self.draft)}

    def changed_since(self, staged: object) -> tuple[str, ...] | None:
        """The parts that differ from the `staged` digests; None when there is no record."""
        if not isinstance(staged, dict):
            return None
        now = self.digests()
        return tuple(part for part in PARTS if staged.get(part) != now[part])


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def read_parts(description: str) -> StagedParts:
    """Contact e-mail and draft as a staged description shows them now."""
    contact = _CONTACT.search(description)
    email = _EMAIL.search(unescape_markdown(contact["contact"])) if contact else None
    draft = _DRAFT.search(description)
    return StagedParts(
        recipient=email.group(0) if email else None,
        draft=unescape_markdown(draft["draft"]) if draft else "",
    )
