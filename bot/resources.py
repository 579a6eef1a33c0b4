"""Where the bot's non-code files live.

`templates/` and `config/` sit at the top of the repository, where people look for them. A wheel
installs them as the packages `bot.templates` and `bot.defaults` (see setup.py); a source checkout
or an editable install reads them in place.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

_PACKAGED = {"templates": "bot.templates", "config": "bot.defaults"}


def resource_dir(name: str) -> Path:
    """Return the directory holding `templates` or `config` for this installation."""
    checkout = Path(__file__).resolve().parent.parent
    # pyproject.toml tells a checkout from site-packages, where another distribution may have
    # left a top-level `templates` or `config` directory of its own.
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    # Inside `bot`, not through files("bot.templates"): a directory without __init__.py is a
    # namespace package, and its MultiplexedPath does not turn into a path with str().
    return Path(str(importlib.resources.files("bot"))) / _PACKAGED[name].removeprefix("bot.")
