"""Decisions made where the message arrives: Slack buttons (`/slack/actions`) and WhatsApp replies
(`/twilio/inbound`). Each request is verified with the service's signature first, its sender mapped
to a GitLab user through the operator's `review` settings, and the decision handed to
`converge_issue` as an `ApiAction` of that user, so GitLab's rights, history and refusals apply.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    from bot.actions import slack_routes, twilio_inbound

    return slack_routes.routes() + twilio_inbound.routes()
