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
    """Answers every GET as GitLab's `GET /api/v4/user` (or as a proxy would pass it on) and
    remembers the headers and the target of every request."""

    seen: list[dict[str, str]] = []
    targets: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(dict(self.headers))
        type(self).targets.append(self.path)
        body = b'{"id": 5, "username": "bot", "name": "Bot", "access_level": 30}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    """A `_Recorder` listening; its URL."""
    _Recorder.seen, _Recorder.targets = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_event_uuid_rides_along_only_inside_handling_event(recorder: str) -> None:
    with handling_event("4b1c6c52-event"):
        GitLabAccess(recorder, "token", 1).bot_user
    GitLabAccess(recorder, "token", 1).bot_user
    inside, outside = _Recorder.seen
    assert inside.get(EVENT_HEADER) == "4b1c6c52-event"
    assert EVENT_HEADER not in outside


def test_the_proxy_variables_hold_for_every_call_and_no_proxy_bypasses_them(recorder: str, monkeypatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", recorder)   # the recorder answers as a proxy that passed the call on
    proxied = GitLabAccess("http://gitlab.example.invalid", "token", 1, retries=0)
    assert proxied.bot_user.username == "bot"
    assert proxied.access_level(5) == 30   # the environment is read once, and still holds
    assert _Recorder.targets == ["http://gitlab.example.invalid/api/v4/user",
                                 "http://gitlab.example.invalid/api/v4/projects/1/members/all/5"]

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")   # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert GitLabAccess(recorder, "token", 1, retries=0).access_level(5) == 30
    assert _Recorder.targets[-1] == "/api/v4/projects/1/members/all/5"   # asked directly, not through a proxy
