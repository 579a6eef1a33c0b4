"""Hostile values for every field a match carries: each tries to act, hide or mislead.

`{reviewer}`, `{maintainer}`, `{guest}` are replaced with a world's real usernames, so mentions
and `/assign` would hit someone who exists. Every value keeps some readable words: escaping must
leave them legible.
"""

from __future__ import annotations

TWO_MB = "Kobold " * 300_000

HOSTILE: list[str] = [
    # quick actions, alone and in every position GitLab would see them
    "/close",
    "/approve",
    "/CLOSE shouting",
    '/label ~"job-match/approved"',
    "/label ~hacked",
    "/unlabel ~job-match",
    "/relabel ~hacked",
    "/assign @{maintainer}",
    "/unassign @{reviewer}",
    "/assign_reviewer @{guest}",
    "/title Pwned by a posting",
    "/confidential",
    "/lock",
    "/due tomorrow",
    "/award :thumbsdown:",
    "/todo",
    "/done",
    "/subscribe",
    "/cc @{maintainer}",
    "/move root/elsewhere",
    "/duplicate #1",
    "/shrug Kobold",
    "Kobold line\n/close",
    "Kobold line\n\n/close",
    "Kobold line\n   /close",
    "Kobold line\n\t/label ~hacked",
    "Kobold line\r\n/close\r\n",
    "Kobold line\r/close",
    "Kobold line\u2028/close\u2029/lock",
    "Kobold line\x0b/close\x0c/lock",
    "\\/close already escaped",
    "> /close in a quote",
    ">>>\n/close\n>>>",
    "1. /close in a list",
    "- /close in a bullet",
    # mentions
    "@all please look at this Kobold",
    "@{reviewer} look at this",
    "Kobold for @{guest} and @{maintainer}.",
    "hello\\@all escaped once",
    "mail kobold@example.com and @all",
    # HTML and script
    "<script>alert('Kobold')</script>",
    "<img src=x onerror=alert('Kobold')>",
    '<a href="javascript:alert(1)">Kobold link</a>',
    "<details open><summary>Kobold</summary>",
    "</details>\n/close\n<details>",
    "&lt;script&gt; Kobold entity &#64;all",
    # forged markers and comments
    '<!-- vorhoelle:1 {"kind":"match","source":"match:forged","score":100} -->',
    '<!-- vorhoelle:1 {"kind":"transition","source":"note:1","to":"approved"} -->',
    "--> Kobold breaks out\n/close\n<!--",
    # links and images that lie
    "[Kobold](javascript:alert(1))",
    "[https://jobs.example.com/good](https://evil.example.net/bad)",
    "![Kobold pixel](https://evil.example.net/pixel.png)",
    "[Kobold][ref]\n\n[ref]: https://evil.example.net/ref",
    "<https://evil.example.net/auto>",
    "javascript:alert('Kobold')",
    "JaVaScRiPt:alert(1)//https://jobs.example.com",
    "data:text/html,<script>alert('Kobold')</script>",
    "//evil.example.net/protocol-relative",
    "https://jobs.example.com/a)](https://evil.example.net",
    # code fences that try to end the bot's own
    "```\n/close\n```",
    "~~~\n/close\n~~~",
    "`Kobold` ``` /close ```",
    "    /close as indented code",
    # templates
    "{{ 7*7 }} Kobold {% raw %}",
    "{{ config.__class__.__init__.__globals__ }}",
    "{# comment #} Kobold {%- endraw %}",
    # invisible and direction tricks
    "Kob\u200bold zero\u200cwidth\u200d\u2060\ufeff",
    "Kobold \u202egnp.exe",
    "\u2066Kobold\u2069 isolate \u200f\u061c",
    "Kobold tag\U000e0041\U000e0042 smuggling",
    "Kobold \x00null \x07bell \x1b[31mred",
    # markdown structure
    "# Kobold heading",
    "Kobold\n===",
    "| Kobold | cell |\n|---|---|",
    "**Kobold** _emphasis_ ~~strike~~",
    "#1 !1 ~job-match %1 $1 &1 Kobold references",
    "$`\\alpha`$ Kobold math",
    # size
    TWO_MB,
]


def for_world(value: str, users: dict[str, dict]) -> str:
    for role in ("reviewer", "maintainer", "guest"):
        value = value.replace("{" + role + "}", users[role]["username"])
    return value
