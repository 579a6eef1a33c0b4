"""What most sub-commands do first: read the settings and set up logging from them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config.settings import Settings


def command_settings(args: argparse.Namespace, *, log_batched: bool = False) -> "Settings":
    """The settings from every layer (`--config` first), with logging configured by them
    (`log_batched`: the lines the long-running server logs on its event loop written in batches)."""
    from bot.logs import configure_logging
    from bot.config.settings import load_settings

    settings = load_settings(args.config)
    configure_logging(settings, batched=log_batched)
    return settings
