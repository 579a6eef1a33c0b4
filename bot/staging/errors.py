"""Why staging refused to start: settings it cannot work with."""

from __future__ import annotations


class StagingError(Exception):
    """The settings do not allow staging (unknown reviewer, missing file, bad title template)."""
