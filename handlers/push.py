"""Push Hook: the bot subscribes so that settings kept in the repository can follow a push;
a push itself never changes a job match."""

from __future__ import annotations

from typing import Any

from bot.config.project_file import PROJECT_FILE
from bot.handlers.payload import HookPayload, Shape
from bot.handlers.router import Decision, HookContext, Ignore, ReloadSettings, router


class Commit(Shape):
    added: Any = None
    modified: Any = None
    removed: Any = None


class PushHook(HookPayload):
    ref: Any = None
    commits: list[Commit] | None = None
    total_commits_count: Any = None


@router.register("Push Hook", payload=PushHook)
def pushed(payload: PushHook, context: HookContext) -> Decision:
    if push_touches_file(payload):
        return ReloadSettings(f"a push to the default branch changed {PROJECT_FILE}")
    return Ignore("a push changes no job match")


def push_touches_file(payload: PushHook) -> bool:
    """Whether the push changed the project file on the default branch.

    GitLab lists at most 20 commits per push; when it left some out, assume the file changed.
    Odd payloads (a field missing or of another type) are "no".
    """
    branch = payload.project.default_branch if payload.project else None
    if not branch or payload.ref != f"refs/heads/{branch}":
        return False
    commits = payload.commits or []
    total = payload.total_commits_count
    if isinstance(total, int) and not isinstance(total, bool) and total > len(commits):
        return True
    return any(
        isinstance(paths, list) and PROJECT_FILE in paths
        for commit in commits
        for paths in (commit.added, commit.modified, commit.removed)
    )
