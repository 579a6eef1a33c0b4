"""Push Hook: the bot subscribes so that settings kept in the repository can follow a push;
a push itself never changes a job match."""

from __future__ import annotations

from bot.config.project_file import PROJECT_FILE, push_touches_file
from bot.handlers.router import Decision, HookContext, Ignore, Payload, ReloadSettings, router


@router.register("Push Hook")
def pushed(payload: Payload, context: HookContext) -> Decision:
    if push_touches_file(payload):
        return ReloadSettings(f"a push to the default branch changed {PROJECT_FILE}")
    return Ignore("a push changes no job match")
