"""A fresh, isolated little GitLab world per test: one private project and five people.

    world = new_world(sandbox)
    world.clients["reviewer"].projects.get(world.project_id).issues.list()
    world.project("bot").issues.create({"title": "..."})

Usernames and the project path are unique per world, so tests sharing the session-wide sandbox
never see each other's data.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import gitlab
from gitlab.v4.objects import Project

ROLES = ("bot", "reviewer", "maintainer", "reporter", "guest")
DEFAULT_ACCESS = {"bot": 30, "reviewer": 30, "maintainer": 40, "reporter": 20, "guest": 10}

_worlds = itertools.count(1)


@dataclass
class World:
    url: str
    project_id: int
    path: str
    web_url: str
    admin: gitlab.Gitlab
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, gitlab.Gitlab] = field(default_factory=dict)

    def project(self, role: str) -> Project:
        """The project as seen by `role` (no request made until an attribute is used)."""
        return self.clients[role].projects.get(self.project_id, lazy=True)


def client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token, timeout=30)


def new_world(sandbox: Any, *, name: str | None = None, bot_access: int = 30) -> World:
    """A private project (owned by root) with `bot`, `reviewer`, `maintainer`, `reporter`,
    `guest` as members; `bot_access` sets the bot's level (e.g. 40 for maintainer)."""
    suffix = f"{next(_worlds)}-{uuid.uuid4().hex[:6]}"
    admin = client(sandbox.url, sandbox.root_token)
    project = admin.projects.create(
        {"name": name or f"world {suffix}", "path": f"world-{suffix}", "visibility": "private"}
    )
    world = World(
        url=sandbox.url,
        project_id=project.id,
        path=project.path_with_namespace,
        web_url=project.web_url,
        admin=admin,
    )
    levels = DEFAULT_ACCESS | {"bot": bot_access}
    for role in ROLES:
        username = f"{role}-{suffix}"
        user = admin.users.create(
            {
                "username": username,
                "name": f"{role.title()} {suffix}",
                "email": f"{username}@example.com",
                "password": uuid.uuid4().hex,
                "skip_confirmation": True,
            }
        )
        token = user.personal_access_tokens.create({"name": "tests", "scopes": ["api"]}).token
        project.members.create({"user_id": user.id, "access_level": levels[role]})
        world.users[role] = {"id": user.id, "username": username, "token": token}
        world.clients[role] = client(sandbox.url, token)
    return world
