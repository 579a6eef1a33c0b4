"""GitLabAccess over real HTTP: retries on faults the sandbox injects, one error type, the
event UUID header on every call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.gitlab_access import EVENT_HEADER, GitLabAccess, GitLabError, handling_event
from bot.sandbox.control import SandboxControl
from tests.support.bot import bot_runtime
from tests.support.world import World


@pytest.fixture
def control(sandbox) -> Iterator[SandboxControl]:
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.reset_counters()
        yield control
        control.faults()


def calls_to(control: SandboxControl, endpoint: str) -> dict[str, int]:
    return control.counters()["calls"].get(endpoint, {})


def test_transient_errors_are_retried_until_they_pass(world: World, control: SandboxControl) -> None:
    gitlab = bot_runtime(world, gitlab_options={"retries": 10}).gitlab
    control.faults(error_rate=0.5, statuses={"502": 1, "500": 1}, paths=["/api/v4/user"], seed=3)
    assert gitlab.bot_user.username == world.users["bot"]["username"]
    seen = calls_to(control, "GET /user")
    assert seen.get("200") == 1 and sum(seen.values()) > 1, seen


def test_rate_limited_calls_give_up_after_the_bounded_retries(world: World, control: SandboxControl) -> None:
    gitlab = bot_runtime(world, gitlab_options={"retries": 2, "max_wait": 0.01}).gitlab
    control.faults(error_rate=1.0, statuses={"429": 1}, paths=["/api/v4/user"])
    with pytest.raises(GitLabError) as caught:
        gitlab.bot_user
    assert caught.value.status == 429 and caught.value.retry_after == 1.0
    assert calls_to(control, "GET /user") == {"429": 3}


def test_client_errors_are_not_retried_and_not_python_gitlab_exceptions(world: World, control: SandboxControl) -> None:
    gitlab = bot_runtime(world).gitlab
    with pytest.raises(GitLabError) as caught:
        gitlab.get_issue(99999)
    assert caught.value.status == 404 and not caught.value.transient
    assert sum(calls_to(control, "GET /projects/:id/issues/:iid").values()) == 1


def test_access_levels_of_members_strangers_and_blocked_users(world: World, sandbox) -> None:
    gitlab = bot_runtime(world).gitlab
    assert gitlab.access_level(world.users["maintainer"]["id"]) == 40
    assert gitlab.access_level(world.users["reporter"]["id"]) == 20
    stranger = world.admin.users.create({"username": f"stranger-{world.project_id}", "name": "Stranger",
                                         "email": f"stranger-{world.project_id}@example.org", "password": "x" * 12})
    assert gitlab.access_level(stranger.id) == 0
    world.admin.users.get(world.users["reviewer"]["id"], lazy=True).block()
    assert gitlab.access_level(world.users["reviewer"]["id"]) == 0


def test_unreachable_gitlab_is_a_gitlab_error() -> None:
    gitlab = GitLabAccess("http://127.0.0.1:9", "token", "x/y", retries=1, max_wait=0.01, timeout=2)
    with pytest.raises(GitLabError) as caught:
        gitlab.bot_user
    assert caught.value.status == 0 and caught.value.transient


class _Recorder(BaseHTTPRequestHandler):
    """Answers `GET /api/v4/user` and remembers the headers of every request."""

    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(dict(self.headers))
        body = b'{"id": 5, "username": "bot", "name": "Bot"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_the_event_uuid_rides_along_only_inside_handling_event() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with handling_event("4b1c6c52-event"):
            GitLabAccess(url, "token", 1).bot_user
        GitLabAccess(url, "token", 1).bot_user
    finally:
        server.shutdown()
        server.server_close()
    inside, outside = _Recorder.seen
    assert inside.get(EVENT_HEADER) == "4b1c6c52-event"
    assert EVENT_HEADER not in outside
