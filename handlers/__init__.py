"""One module per GitLab event kind; each registers itself on `handlers.router.router`.

Importing this package registers them all.
"""

from bot.handlers import emoji, issue, note, push  # noqa: F401
