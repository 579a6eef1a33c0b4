"""The bot as a test drives it: settings and a runtime pointing at a world's sandbox project.

    settings = bot_settings(world, workflow={"emoji": {"enabled": False}})
    runtime = bot_runtime(world)             # GitLabAccess as the world's bot user
    converge_issue(runtime, iid)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.gitlab_access import GitLabAccess
from bot.runtime import Runtime
from bot.config.settings import Settings, load_settings
from tests.support.world import World

# Fast retries: tests inject faults on purpose and should not wait GitLab.com-sized back-offs.
TEST_RETRIES = {"retries": 3, "max_wait": 0.2, "timeout": 10}


def bot_settings(world: World, **over: Any) -> Settings:
    """Settings for the world's bot user and project; `over` overrides any setting (nested dicts
    merge into the defaults)."""
    return load_settings(
        gitlab_url=world.url,
        gitlab_token=world.users["bot"]["token"],
        project=str(world.project_id),
        **over,
    )


def bot_runtime(world: World, *, notifier: Any = None, gitlab_options: dict[str, Any] | None = None, **over: Any) -> Runtime:
    """A runtime with GitLab access only (no queue): what converge_issue needs."""
    settings = bot_settings(world, **over)
    gitlab = GitLabAccess.from_settings(settings, **{**TEST_RETRIES, **(gitlab_options or {})})
    return Runtime(settings=settings, gitlab=gitlab, notifier=notifier)


@contextmanager
def cli_environment(world: World, monkeypatch: Any, **settings: str) -> Iterator[None]:
    """For `bot.cli.main` run in this process: the world's connection and `settings` (names as
    after `VORHOELLE_`, e.g. `NOTIFY__MAX_AGE_DAYS="30"`) in the environment; the root logger,
    which the command configures, put back afterwards."""
    connection = {"GITLAB_URL": world.url, "GITLAB_TOKEN": world.users["bot"]["token"], "PROJECT": str(world.project_id)}
    for name, value in {**connection, **settings}.items():
        monkeypatch.setenv(f"VORHOELLE_{name}", value)
    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        yield
    finally:
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)
