"""Hostile input, generated: webhook bodies and headers, and bodies for the staging API. Whatever
arrives, the bot answers below 500 with a precise JSON error for what is wrong, and logs no
unhandled exception."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.gitlab_access import GitLabError
from tests.staging.conftest import API_TOKEN, match, settings_for
from tests.support.botserver import WEBHOOK_SECRET, running_bot
from tests.support.world import new_world
from tests.webhook.test_receiver import PAYLOADS, aimed_at, event_of

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EVENTS = ["Issue Hook", "Note Hook", "Emoji Hook", "Confidential Issue Hook", "Confidential Note Hook",
          "Push Hook", "Pipeline Hook", ""]
HEADER_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)  # what HTTP allows
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


class Collected(logging.Handler):
    """Every record at ERROR or above, from any logger (uvicorn's "Exception in ASGI
    application" included)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def unhandled(self) -> list[str]:
        """Errors other than GitLab refusing a converge of an issue a fuzzed payload invented."""
        return [r.getMessage() for r in self.records
                if not (r.exc_info and isinstance(r.exc_info[1], GitLabError))]


@pytest.fixture(scope="module")
def errors() -> Iterator[Collected]:
    handler = Collected()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture(scope="module")
def target(sandbox: Any, errors: Collected) -> Iterator[dict[str, Any]]:
    """A bot on its own world, one job-match issue, and GitLab's real payloads aimed at it."""
    world = new_world(sandbox)
    issue = world.project("bot").issues.create({"title": "Fuzz target", "labels": "job-match,job-match/pending"})
    payloads = [aimed_at(json.loads(p.read_text()), world.project_id, issue.iid)
                for p in sorted(PAYLOADS.glob("*.json")) if p.name.startswith(("issue_", "note_", "emoji_"))]
    with running_bot(settings_for(world, webhook_secret=WEBHOOK_SECRET)) as bot, \
            httpx.Client(base_url=bot.url, timeout=30) as http:
        yield {"bot": bot, "http": http, "payloads": payloads, "keys": set()}
    assert errors.unhandled() == []


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a JSON value."""
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return [prefix]
    return [prefix, *(p for key, child in children for p in paths(child, (*prefix, key)))]


def mutate(payload: Any, data: st.DataObject) -> Any:
    """A copy with one value replaced by something else, or removed."""
    payload = copy.deepcopy(payload)
    path = data.draw(st.sampled_from(paths(payload)[1:]))
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON)
    return payload


def json_error(answer: httpx.Response) -> str:
    body = answer.json()
    assert isinstance(body, dict) and body.get("error"), answer.text
    return body["error"]


@FUZZ
@given(data=st.data(), event=st.sampled_from(EVENTS) | HEADER_TEXT,
       token=st.sampled_from([WEBHOOK_SECRET, None, "", "wrong", WEBHOOK_SECRET.upper()]),
       key=st.none() | HEADER_TEXT, kind=st.sampled_from(["real", "mutated", "json", "bytes"]))
def test_any_webhook_delivery_gets_a_precise_answer_below_500(target, data, event, token, key, kind):
    real = data.draw(st.sampled_from(target["payloads"]))
    body = {
        "real": lambda: json.dumps(real).encode(),
        "mutated": lambda: json.dumps(mutate(real, data)).encode(),
        "json": lambda: json.dumps(data.draw(JSON)).encode(),
        "bytes": lambda: data.draw(st.binary(max_size=200)),
    }[kind]()
    headers = {"X-Gitlab-Event": event if kind == "bytes" else (event or event_of(real)),
               "Content-Type": "application/json"}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    if key is not None:
        headers["Idempotency-Key"] = key

    answer = target["http"].post("/webhook", content=body, headers=headers)

    if token != WEBHOOK_SECRET:
        assert answer.status_code == 401 and "X-Gitlab-Token" in json_error(answer)
        return
    if key in target["keys"]:   # a resend of a handled delivery is dropped before it is read
        assert (answer.status_code, answer.json()["status"]) == (202, "duplicate")
        return
    try:   # as strictly as the receiver reads it (RFC 8259: NaN and Infinity are not JSON)
        is_object = isinstance(json.loads(body, parse_constant=not_json), dict)
    except ValueError:
        is_object = False
    if not is_object:
        assert answer.status_code == 400 and json_error(answer).startswith("body ")
        return
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] in ("queued", "ignored", "reloading")
    if key is not None:
        target["keys"].add(key)


def not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["mutated", "json", "bytes", "cycle"]),
       token=st.sampled_from([API_TOKEN, API_TOKEN, None, "wrong"]))
def test_any_staging_request_gets_a_precise_answer_below_500(target, data, kind, token):
    base = match(score=data.draw(st.integers(0, 69)))   # below the threshold: valid ones stage nothing
    body = {
        "mutated": lambda: json.dumps(mutate(base, data)).encode(),
        "json": lambda: json.dumps(data.draw(JSON)).encode(),
        "bytes": lambda: data.draw(st.binary(max_size=200)),
        "cycle": lambda: json.dumps([base, mutate(base, data)]).encode(),
    }[kind]()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"

    answer = target["http"].post("/api/v1/matches", content=body, headers=headers)

    assert answer.status_code < 500, answer.text
    if token != API_TOKEN:
        assert answer.status_code == 401 and json_error(answer) == "unauthorized"
    elif answer.status_code >= 400:
        assert answer.status_code in (400, 413, 422) and json_error(answer)
    else:
        assert answer.status_code in (200, 201) and answer.json()
