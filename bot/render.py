"""Every text a human reads comes from a Jinja2 template in `templates/`.

The template's file name says where its output goes, and so how every value put into it is
escaped: `*.md.j2` GitLab Markdown, `*.html.j2` HTML, `*.slack.j2` Slack mrkdwn, `*.txt.j2` plain
text. Escaping is the environment's `finalize` step, so a template cannot forget it; text the bot
built itself (a marker, a link it made) is passed as `markupsafe.Markup` or through `|safe`.

A template context may carry `max_field_chars`: every escaped value is then cut to that length
with a visible note, so one huge field cannot swamp (or overflow) the text it lands in.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from markupsafe import Markup

from bot import escape
from bot.resources import resource_dir

if TYPE_CHECKING:
    import jinja2

_ESCAPERS: dict[str, Callable[[object, int | None], str]] = {
    ".md.j2": escape.escape_markdown,
    ".slack.j2": escape.escape_slack,
    ".txt.j2": escape.escape_plain,
}


LIMIT_KEY = "max_field_chars"


def _finalizer(escaper: Callable[[object, int | None], str]) -> Callable[..., Any]:
    import jinja2

    @jinja2.pass_context
    def finalize(context: jinja2.runtime.Context, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, Markup):
            return str(value)
        return escaper(value, context.get(LIMIT_KEY))

    return finalize


def _filters() -> dict[str, Callable[..., Any]]:
    """Filters that do their own escaping and return text marked as already safe."""
    import jinja2

    def safe_after(fn: Callable[..., str]) -> Callable[..., Markup]:
        @jinja2.pass_context
        def apply(context: jinja2.runtime.Context, value: Any) -> Markup:
            return Markup("" if value is None else fn(value, context.get(LIMIT_KEY)))

        return apply

    return {
        "md": safe_after(escape.escape_markdown),
        "md_cell": safe_after(escape.escape_markdown_cell),
        "link": safe_after(escape.markdown_link),
        "code": safe_after(escape.code_span),
        "label_ref": safe_after(escape.label_reference),
        "slack": safe_after(escape.escape_slack),
        "plain": safe_after(escape.escape_plain),
        "title": lambda value: Markup(escape.plain_title(value)),
    }


@lru_cache(maxsize=None)
def environment(suffix: str) -> jinja2.Environment:
    import jinja2  # here, not at the top: ~20 ms the bot need not spend before it answers

    loader = jinja2.FileSystemLoader(str(resource_dir("templates")))
    if suffix == ".html.j2":
        env = jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=True)
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=_finalizer(_ESCAPERS[suffix]),
            keep_trailing_newline=True,
        )
    env.filters.update(_filters())
    return env


def suffix_of(name: str) -> str:
    for suffix in (".md.j2", ".html.j2", ".slack.j2", ".txt.j2"):
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"template {name!r} must end in .md.j2, .html.j2, .slack.j2 or .txt.j2")


def render(name: str, **context: Any) -> str:
    """Render `templates/<name>` with every untrusted value escaped for its destination."""
    return environment(suffix_of(name)).get_template(name).render(**context)
