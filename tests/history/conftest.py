"""The tracker's tests run the real `vorhoelle` command against a fresh sandbox project."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.gitlab_access import GitLabAccess
from bot.config.settings import Settings, load_settings
from tests.support.world import World

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "csv"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def bot_env(world: World, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The bot's connection to the world's project, as a user would give it: environment variables."""
    monkeypatch.setenv("VORHOELLE_GITLAB_URL", world.url)
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", world.users["bot"]["token"])
    monkeypatch.setenv("VORHOELLE_PROJECT", str(world.project_id))
    return load_settings()


@pytest.fixture
def access(bot_env: Settings) -> GitLabAccess:
    return GitLabAccess.from_settings(bot_env)


@pytest.fixture
def vorhoelle(bot_env: Settings, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Run]]:
    """Run the command line in-process. Its logging handler writes to this test's captured
    stderr, so the root logger is put back afterwards (the sandbox thread goes on logging)."""
    handlers, level = logging.root.handlers[:], logging.root.level

    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    yield run
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)
