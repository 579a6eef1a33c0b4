"""Fixtures of the mailbox tests: a real Dovecot, and applications the bot has mailed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dovecot import PASSWORD, USER, RunningDovecot, missing, running_dovecot


@pytest.fixture
def dovecot() -> Iterator[RunningDovecot]:
    why = missing()
    if why:
        pytest.skip(why)
    with running_dovecot() as running:
        yield running


def imap_settings(dovecot: RunningDovecot) -> dict:
    """`replies:` settings reading the fixture's mailbox over TLS, trusting only its certificate."""
    return {"transport": "imap", "imap": {"host": "127.0.0.1", "port": dovecot.port, "username": USER,
                                          "password": PASSWORD, "ca_file": str(dovecot.ca_file)}}
