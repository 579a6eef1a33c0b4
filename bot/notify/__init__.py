"""Notifications: one module per channel, and the dispatcher that decides what goes where.

`build_dispatcher(settings, gitlab)` is what the running bot calls, with a callable giving its
current settings, so that a reload reaches the notifier; each channel's SDK is imported only
when that channel is enabled. With no channel enabled, the console channel
(print + JSON-lines outbox) is used, so a message is never silently dropped.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from bot.notify.channel import Channel, required
from bot.notify.clock import Clock, system_clock
from bot.notify.dispatcher import Dispatcher
from bot.config.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["build_channels", "build_dispatcher", "mail_transport", "Dispatcher"]


def mail_transport(settings: Settings) -> Any:
    """The configured e-mail transport (Gmail API or SMTP), for notifications and applications."""
    email = settings.notify.channels.email
    if email.transport == "gmail":
        from bot.notify.email_gmail import Gmail

        return Gmail(email)
    from bot.notify.email_smtp import Smtp

    return Smtp(email.smtp)


def _email(settings: Settings, clock: Clock) -> dict[str, Channel]:
    from bot.notify.mail import Email

    email = settings.notify.channels.email
    return {"email": Email(mail_transport(settings), sender=required(email.sender, "email.sender"), to=email.to, clock=clock)}


def _slack(settings: Settings, clock: Clock) -> dict[str, Channel]:
    from bot.notify.slack import Slack

    return {"slack": Slack(settings.notify.channels.slack)}


def _whatsapp(settings: Settings, clock: Clock) -> dict[str, Channel]:
    from bot.notify.whatsapp import targets

    return dict(targets(settings.notify.channels.whatsapp))


def build_channels(settings: Settings, gitlab: Any, clock: Clock = system_clock) -> tuple[dict[str, Channel], dict[str, str]]:
    """The enabled channels' delivery targets (one per WhatsApp recipient), and for each enabled
    channel that could not be built, why not."""
    configured = settings.notify.channels
    channels: dict[str, Channel] = {}
    problems: dict[str, str] = {}
    for name, build in (("slack", _slack), ("email", _email), ("whatsapp", _whatsapp)):
        if getattr(configured, name).enabled:
            try:
                channels |= build(settings, clock)
            except Exception as exc:  # a missing token file, an SDK not installed, ...
                problems[name] = f"{type(exc).__name__}: {exc}"
                log.error("notification channel %s is enabled but cannot start: %s", name, exc)
    if configured.gitlab_todo.enabled:
        reviewer = configured.gitlab_todo.reviewer or settings.staging.reviewer
        if reviewer and gitlab is not None:
            from bot.notify.gitlab_todo import GitLabTodo

            channels["gitlab_todo"] = GitLabTodo(gitlab, reviewer)
        else:
            log.info("GitLab to-do notifications are off: no reviewer (notify.channels.gitlab_todo.reviewer "
                     "or staging.reviewer)")
    if configured.console.enabled or not channels:
        from bot.notify.console import Console

        channels["console"] = Console.from_settings(configured.console, clock)
    return channels, problems


def build_dispatcher(
    settings: Settings | Callable[[], Settings], gitlab: Any, *, clock: Clock = system_clock, **options: Any
) -> Dispatcher:
    """The notifier; `settings` may be a callable giving the current settings (a reload of the
    project's file then changes quiet hours, events and channels of the running notifier)."""
    current = settings if callable(settings) else (lambda: settings)
    channels, problems = build_channels(current(), gitlab, clock)
    log.info("notifications: %s", ", ".join(channels) or "none")
    return Dispatcher(current, gitlab, channels, clock=clock, problems=problems,
                      rebuild=lambda now: build_channels(now, gitlab, clock), **options)
