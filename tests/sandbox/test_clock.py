"""`PUT /-/sandbox/clock`: what is written from then on is stamped that far from the real time,
so a test can make changes look days old without waiting days (bot/sandbox/control.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from bot.sandbox.control import SandboxControl
from bot.sandbox.store import parse_time


def test_moving_the_clock_stamps_what_is_written_and_moving_it_back_restores_the_time(sandbox, world) -> None:
    reviewer = world.project("reviewer")
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        try:
            assert control.shift_clock(-10 * 86400) == {"offset_seconds": -864000.0}
            old = reviewer.issues.create({"title": "Written in the past"})
            note = old.notes.create({"body": "also in the past"})
        finally:
            control.shift_clock(0)
        new = reviewer.issues.create({"title": "Written now"})
    now = datetime.now(timezone.utc)
    for stamp in (old.created_at, old.updated_at, note.created_at):
        assert timedelta(days=9) < now - parse_time(stamp) < timedelta(days=11)
    assert now - parse_time(new.created_at) < timedelta(hours=1)
    assert [i.iid for i in reviewer.issues.list(get_all=True, updated_before=(now - timedelta(days=5)).isoformat())] == [old.iid]


@pytest.mark.parametrize("body, status", [({"offset_seconds": "soon"}, 400), ([1], 400)])
def test_a_clock_it_cannot_read_is_refused(sandbox, body, status) -> None:
    answer = httpx.put(f"{sandbox.url}/-/sandbox/clock", json=body, headers={"PRIVATE-TOKEN": sandbox.root_token})
    assert answer.status_code == status and "400 Bad request" in answer.json()["message"]


def test_only_an_administrator_moves_the_clock(sandbox, world) -> None:
    answer = httpx.put(f"{sandbox.url}/-/sandbox/clock", json={"offset_seconds": 60},
                       headers={"PRIVATE-TOKEN": world.users["maintainer"]["token"]})
    assert answer.status_code == 403
