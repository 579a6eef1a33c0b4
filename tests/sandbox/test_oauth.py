"""The sandbox GitLab as an OAuth 2 provider: authorization code with PKCE, as GitLab answers."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.world import World

CALLBACK = "http://client.example/callback"
VERIFIER = "a-verifier-of-at-least-forty-three-characters-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def application(world: World) -> dict:
    answer = httpx.post(f"{world.url}/api/v4/applications", headers={"PRIVATE-TOKEN": world.admin.private_token},
                        data={"name": "client", "redirect_uri": CALLBACK, "scopes": "read_user openid"})
    assert answer.status_code == 201
    return answer.json()


def _code(world: World, application: dict, role: str = "maintainer") -> str:
    browser = httpx.Client(timeout=30)
    user = world.users[role]
    browser.post(f"{world.url}/users/sign_in", data={"username": user["username"], "token": user["token"]})
    answer = browser.get(f"{world.url}/oauth/authorize", params={
        "client_id": application["application_id"], "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "read_user", "state": "s1", "code_challenge": CHALLENGE, "code_challenge_method": "S256"})
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def _token(world: World, application: dict, code: str, verifier: str) -> httpx.Response:
    return httpx.post(f"{world.url}/oauth/token", auth=(application["application_id"], application["secret"]),
                      data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                            "code_verifier": verifier})


def test_a_code_and_its_verifier_give_a_token_that_names_the_user(world: World, application: dict):
    answer = _token(world, application, _code(world, application), VERIFIER)
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    me = httpx.get(f"{world.url}/api/v4/user", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["username"] == world.users["maintainer"]["username"]
    info = httpx.get(f"{world.url}/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.json()["preferred_username"] == world.users["maintainer"]["username"]


def test_a_wrong_verifier_or_a_used_code_is_an_invalid_grant(world: World, application: dict):
    code = _code(world, application)
    wrong = _token(world, application, code, "not-the-verifier")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert _token(world, application, code, VERIFIER).json()["error"] == "invalid_grant"  # used up


def test_a_browser_without_a_session_is_sent_to_sign_in(world: World, application: dict):
    answer = httpx.get(f"{world.url}/oauth/authorize", params={
        "client_id": application["application_id"], "redirect_uri": CALLBACK, "response_type": "code"})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/users/sign_in?redirect_to=%2Foauth%2Fauthorize")


def test_an_unregistered_redirect_uri_is_never_redirected_to(world: World, application: dict):
    answer = httpx.get(f"{world.url}/oauth/authorize", params={
        "client_id": application["application_id"], "redirect_uri": "http://evil.example/", "response_type": "code"})
    assert answer.status_code == 401
    assert "location" not in answer.headers


def test_a_wrong_client_secret_is_an_invalid_client(world: World, application: dict):
    answer = httpx.post(f"{world.url}/oauth/token", data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK,
        "client_id": application["application_id"], "client_secret": "wrong"})
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_only_an_administrator_registers_applications(world: World):
    answer = httpx.post(f"{world.url}/api/v4/applications", headers={"PRIVATE-TOKEN": world.users["maintainer"]["token"]},
                        data={"name": "x", "redirect_uri": CALLBACK, "scopes": "read_user"})
    assert answer.status_code == 403
