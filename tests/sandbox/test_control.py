"""The control surface around a tiny API over real HTTP: counters, faults, rate limits, admin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.sandbox.control import ControlMiddleware, ControlState, SandboxControl, control_routes
from bot.sandbox.delivery import HookState
from tests.sandbox.serving import serving

ADMIN, USER, OTHER_USER = "admin-token", "user-token", "other-token"
WINDOW_START = 1_700_000_040.0          # a whole minute, so fixed windows start here


class Clock:
    def __init__(self) -> None:
        self.now = WINDOW_START

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    url: str
    state: ControlState
    clock: Clock
    hook: HookState
    control: SandboxControl
    http: httpx.Client

    def call(self, method: str, path: str, token: str | None = USER) -> httpx.Response:
        headers = {"PRIVATE-TOKEN": token} if token else {}
        return self.http.request(method, f"{self.url}/api/v4{path}", headers=headers)


def tiny_gitlab(state: ControlState, hook: HookState) -> ControlMiddleware:
    """Just enough API to be counted, failed and throttled."""

    async def issues(request: Request) -> JSONResponse:
        return JSONResponse([] if request.method == "GET" else {"iid": 1},
                            status_code=200 if request.method == "GET" else 201)

    async def notes(request: Request) -> JSONResponse:
        return JSONResponse({"id": 1}, status_code=201)

    def is_admin(request: Request) -> bool | None:
        token = request.headers.get("private-token")
        return {ADMIN: True, USER: False, OTHER_USER: False}.get(token)

    async def is_admin_async(request: Request) -> bool | None:
        return is_admin(request)

    app = Starlette(routes=[
        Route("/api/v4/projects/{id:path}/issues", issues, methods=["GET", "POST"]),
        Route("/api/v4/projects/{id}/issues/{iid:int}/notes", notes, methods=["POST"]),
        *control_routes(is_admin_async, {hook.id: hook}.get, state),
    ])
    return ControlMiddleware(app, state)


@pytest.fixture
def api() -> Iterator[Api]:
    clock = Clock()
    state = ControlState(clock=clock)
    hook = HookState(id=3, project_id=1, url="http://receiver.example.com/hook")
    with (serving(tiny_gitlab(state, hook)) as url, SandboxControl(url, ADMIN) as control,
          httpx.Client() as http):
        yield Api(url, state, clock, hook, control, http)


def test_counters_by_method_normalised_path_and_status(api):
    api.call("GET", "/projects/5/issues")
    api.call("GET", "/projects/group%2Fapp/issues")
    api.call("POST", "/projects/5/issues/7/notes")
    api.call("POST", "/projects/5/issues/8/notes")
    api.call("GET", "/projects/5/nothing-here")
    counters = api.control.counters()
    assert counters["calls"] == {
        "GET /projects/:id/issues": {"200": 2},
        "POST /projects/:id/issues/:iid/notes": {"201": 2},
        "GET /projects/:id/nothing-here": {"404": 1},
    }
    assert counters["total"] == 5                       # control calls are not counted
    api.control.reset_counters()
    assert api.control.counters()["total"] == 0


def test_fault_share_is_within_bounds_and_repeatable(api):
    def run() -> list[int]:
        api.control.faults(error_rate=0.3, seed=42)
        return [api.call("GET", "/projects/5/issues").status_code for _ in range(200)]

    statuses = run()
    failed = Counter(s for s in statuses if s != 200)
    assert 35 <= sum(failed.values()) <= 85              # 60 expected; about 4 sigma either side
    assert set(failed) == {500, 502, 429}
    assert api.control.counters()["faults"]["injected"] == {str(k): v for k, v in failed.items()}
    assert run() == statuses                               # same seed, same faults


def test_fault_answers_look_like_gitlab_s(api):
    api.control.faults(error_rate=1.0, statuses={"429": 1})
    response = api.call("GET", "/projects/5/issues")
    assert response.status_code == 429
    assert response.json() == {"message": "Retry later"}
    assert response.headers["Retry-After"] == "1"
    api.control.faults(error_rate=1.0, statuses={"502": 1})
    assert api.call("GET", "/projects/5/issues").json() == {"message": "502 Bad Gateway"}


def test_faults_only_where_the_paths_say_and_never_on_the_control_surface(api):
    api.control.faults(error_rate=1.0, paths=["*/notes"], statuses={"500": 1})
    assert api.call("POST", "/projects/5/issues/7/notes").status_code == 500
    assert api.call("GET", "/projects/5/issues").status_code == 200
    api.control.faults(error_rate=1.0)
    assert api.call("GET", "/projects/5/issues").status_code != 200
    assert api.control.counters()["calls"]                  # the control surface still works
    api.control.faults()
    assert api.call("GET", "/projects/5/issues").status_code == 200


def test_latency_is_applied_to_matching_calls(api):
    api.control.faults(latency_ms=20, paths=["/api/v4/projects/*/issues"])
    for _ in range(3):
        assert api.call("GET", "/projects/5/issues").status_code == 200
    api.call("POST", "/projects/5/issues/7/notes")
    faults = api.control.counters()["faults"]
    assert (faults["delayed"], faults["delay_ms_total"]) == (3, 60.0)


def test_fixed_window_limit_answers_429_with_gitlab_headers(api):
    api.control.rate_limits(authenticated_per_minute=3)
    remaining = []
    for _ in range(3):
        response = api.call("GET", "/projects/5/issues")
        assert response.status_code == 200
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    api.clock.now += 20
    refused = api.call("GET", "/projects/5/issues")
    assert refused.status_code == 429
    assert refused.json() == {"message": "Retry later"}
    assert refused.headers["Retry-After"] == "40"
    assert refused.headers["RateLimit-Name"] == "throttle_authenticated_api"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Observed"] == "4"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == str(int(WINDOW_START) + 60)
    assert refused.headers["RateLimit-ResetTime"].endswith(" GMT")

    assert api.call("GET", "/projects/5/issues", token=OTHER_USER).status_code == 200
    api.clock.now += 40                                       # the next window
    assert api.call("GET", "/projects/5/issues").status_code == 200
    counters = api.control.counters()
    assert counters["rate_limited"] == {"throttle_authenticated_api": 1}
    assert counters["calls"]["GET /projects/:id/issues"]["429"] == 1


def test_sliding_window_frees_calls_as_they_age(api):
    api.control.rate_limits(authenticated_per_minute=2, window="sliding")
    assert api.call("GET", "/projects/5/issues").status_code == 200
    api.clock.now += 30
    assert api.call("GET", "/projects/5/issues").status_code == 200
    api.clock.now += 15
    refused = api.call("GET", "/projects/5/issues")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "15"
    api.clock.now += 16
    assert api.call("GET", "/projects/5/issues").status_code == 200


def test_creation_limits_apply_to_their_endpoints_only(api):
    limits = api.control.rate_limits(preset="gitlab.com", note_creations_per_minute=2)
    assert limits["authenticated_per_minute"] == 2000 and limits["issue_creations_per_minute"] == 200
    for _ in range(2):
        assert api.call("POST", "/projects/5/issues/7/notes").status_code == 201
    refused = api.call("POST", "/projects/5/issues/9/notes")
    assert refused.status_code == 429 and refused.headers["RateLimit-Name"] == "notes_create"
    ok = api.call("GET", "/projects/5/issues")
    assert ok.status_code == 200 and ok.headers["RateLimit-Limit"] == "2000"
    assert api.call("POST", "/projects/5/issues").status_code == 201
    api.control.rate_limits(preset="off")
    assert "RateLimit-Limit" not in api.call("POST", "/projects/5/issues/7/notes").headers


def test_anonymous_calls_are_limited_by_address(api):
    api.control.rate_limits(unauthenticated_per_minute=1)
    assert api.call("GET", "/projects/5/issues", token=None).status_code == 200
    refused = api.call("GET", "/projects/5/issues", token=None)
    assert refused.headers["RateLimit-Name"] == "throttle_unauthenticated_api"
    assert api.call("GET", "/projects/5/issues").status_code == 200


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong", 401), (USER, 403)])
def test_control_surface_is_for_administrators(api, token, status):
    headers = {"PRIVATE-TOKEN": token} if token else {}
    for method, path in [("GET", "faults"), ("PUT", "rate-limits"), ("DELETE", "counters"),
                         ("POST", "hooks/3/pause")]:
        response = httpx.request(method, f"{api.url}/-/sandbox/{path}", headers=headers,
                                 json={"preset": "gitlab.com"})
        assert response.status_code == status
        assert "message" in response.json()
    assert api.state.rate_limits.on is False and api.hook.paused is False


@pytest.mark.parametrize(("path", "body", "message"), [
    ("faults", {"error_rate": 2}, "error_rate must be a number from 0 to 1"),
    ("faults", {"statuses": {"418": 1}}, "statuses: 418 is not one of"),
    ("faults", {"latency": 5}, "unknown field 'latency'"),
    ("faults", [1], "the body must be a JSON object"),
    ("rate-limits", {"preset": "github.com"}, "preset must be one of"),
    ("rate-limits", {"authenticated_per_minute": 0}, "must be a positive integer"),
    ("rate-limits", {"window": "rolling"}, 'window must be "fixed" or "sliding"'),
])
def test_bad_settings_are_refused_precisely(api, path, body, message):
    response = httpx.put(f"{api.url}/-/sandbox/{path}", headers={"PRIVATE-TOKEN": ADMIN},
                         json=body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert api.state.faults.error_rate == 0 and not api.state.rate_limits.on


def test_hooks_pause_and_unpause(api):
    assert api.control.pause_hook(3) == {"id": 3, "paused": True}
    assert api.hook.paused
    assert api.control.unpause_hook(3) == {"id": 3, "paused": False}
    assert not api.hook.paused
    with pytest.raises(httpx.HTTPStatusError) as refused:
        api.control.pause_hook(99)
    assert refused.value.response.status_code == 404
