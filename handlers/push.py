"""Push Hook: the bot subscribes so that settings kept in the repository can follow a push;
a push itself never changes a job match."""

from __future__ import annotations

from handlers.router import Decision, HookContext, Ignore, Payload, router


@router.register("Push Hook")
def pushed(payload: Payload, context: HookContext) -> Decision:
    return Ignore("a push changes no job match")
