"""`vorhoelle config check`: everything that would stop the bot, each with how to fix it.

First the settings themselves (every layer, each problem at `file:line` or the variable's name),
then notifications that would reach nobody, then what is missing for a real deployment, then
GitLab: the token is accepted, has scope `api`, the project is visible, the bot's role is enough,
and the project's `.vorhoelle.yml` is valid.
A failure that makes later checks meaningless (no settings, GitLab unreachable) stops there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Literal

from bot.config.files import ENV_PREFIX, ConfigError
from bot.config.notify_sections import NotifyChannels, NotifySettings
from bot.config.sections import ACCESS_LEVELS
from bot.config.settings import Settings, load_settings
from bot.seams import GitLab

log = logging.getLogger(__name__)

ROLE_NAMES = {level: name for name, level in ACCESS_LEVELS.items()}
EXPIRY_WARNING = timedelta(days=14)
SYMBOLS = {"ok": "✓", "warning": "!", "error": "✗"}


@dataclass(frozen=True)
class Finding:
    level: Literal["ok", "warning", "error"]
    text: str

    def __str__(self) -> str:
        return f"{SYMBOLS[self.level]} {self.text}"


def ok(text: str) -> Finding:
    return Finding("ok", text)


def warning(text: str) -> Finding:
    return Finding("warning", text)


def error(text: str) -> Finding:
    return Finding("error", text)


def check_notify(settings: Settings) -> list[Finding]:
    """Notifications that are valid settings but would reach nobody."""
    notify, found = settings.notify, []
    admin = notify.admin_channel
    if admin is not None and not getattr(notify.channels, admin).enabled:
        found.append(warning(
            f"notify.admin_channel is {admin}, which is not enabled: the bot's health reports reach only "
            f"its log; enable notify.channels.{admin} or name an enabled channel"
        ))
    found += _silent_events(notify)
    if notify.channels.email.send_application.enabled and not notify.channels.email.enabled:
        found.append(warning(
            "notify.channels.email.send_application is on but e-mail is not enabled: no application is "
            "mailed; enable notify.channels.email"
        ))
    return found


def _silent_events(notify: NotifySettings) -> list[Finding]:
    """Event rules that name channels, all of them off. An empty list or `all` with every channel
    off is a choice (silence); naming only disabled channels is more likely an oversight."""
    enabled = {name for name in NotifyChannels.model_fields if getattr(notify.channels, name).enabled}
    return [
        warning(
            f"notify.events.{event} names only {', '.join(rule.channels)}, which "
            f"{'is' if len(rule.channels) == 1 else 'are'} not enabled: {event} events reach nobody; "
            "enable one of them or add an enabled channel to the rule"
        )
        for event, rule in notify.events.items()
        if rule.channels and "all" not in rule.channels and not enabled & set(rule.channels)
    ]


def check_deployment(settings: Settings) -> list[Finding]:
    """What a bot talking to a real GitLab needs besides valid settings."""
    found = _missing_files(settings)
    if not settings.gitlab_url:
        return found + [warning(
            f"gitlab_url is not set: `vorhoelle serve` will start the embedded sandbox GitLab; "
            f"set {ENV_PREFIX}GITLAB_URL (e.g. https://gitlab.com) to use a real one"
        )]
    if settings.gitlab_token is None:
        found.append(error(
            f"gitlab_token is not set: create a personal (or project) access token with scope `api` "
            f"for the bot's GitLab user and set {ENV_PREFIX}GITLAB_TOKEN or {ENV_PREFIX}GITLAB_TOKEN_FILE"
        ))
    if not settings.project:
        found.append(error(
            f"project is not set: set {ENV_PREFIX}PROJECT to the project's id or path (group/project)"
        ))
    if settings.webhook_secret is None:
        found.append(warning(
            f"webhook_secret is not set (an empty one counts as not set): the bot refuses every webhook "
            f"until it has one; choose a "
            f"long random string, set {ENV_PREFIX}WEBHOOK_SECRET, and give the same to GitLab's hook"
        ))
    if settings.api_token is None:
        found.append(warning(f"api_token is not set (an empty one counts as not set): /api/v1 stays closed; "
                             f"set {ENV_PREFIX}API_TOKEN to open it"))
    if not settings.public_url:
        found.append(warning(
            "public_url is not set: `vorhoelle hook install` needs --url, or set "
            f"{ENV_PREFIX}PUBLIC_URL to the address GitLab reaches the bot at"
        ))
    return found + _settings_page(settings)


def _settings_page(settings: Settings) -> list[Finding]:
    """The settings page is on with all three of its settings, off with none; half is a mistake."""
    page = settings.settings_page
    given = {"settings_page.oauth_client_id": page.oauth_client_id,
             "settings_page.oauth_client_secret": page.oauth_client_secret,
             "settings_page.session_secret": page.session_secret}
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return []
    if missing:
        return [warning(f"the settings page stays off: {', '.join(missing)} not set (it needs the OAuth "
                        f"application's id and secret, {ENV_PREFIX}OAUTH_CLIENT_SECRET, and "
                        f"{ENV_PREFIX}SESSION_SECRET)")]
    where = f"{settings.public_url.rstrip('/')}/settings" if settings.public_url else "/settings"
    return [ok(f"settings page on at {where}; the OAuth application's redirect URI must be {where}/callback")]


def _missing_files(settings: Settings) -> list[Finding]:
    files: dict[str, Path | None] = {f"staging.attachments.{name}": path for name, path in settings.staging.attachments.items()}
    email = settings.notify.channels.email
    if email.enabled and email.transport == "gmail":
        files["notify.channels.email.gmail.token_file"] = email.gmail.token_file
        files["notify.channels.email.gmail.service_account_file"] = email.gmail.service_account_file
    return [
        error(f"{name}: {path} does not exist or is not a file")
        for name, path in files.items()
        if path is not None and not Path(path).is_file()
    ]


def _role(level: int) -> str:
    return ROLE_NAMES.get(level, f"access level {level}")


def check_gitlab(settings: Settings, gitlab: GitLab) -> list[Finding]:
    """Token, scopes, project, role and the project's settings file, as GitLab answers."""
    from bot.config import project_file
    from bot.gitlab_access import GitLabError

    url = settings.gitlab_url
    try:
        user = gitlab.bot_user
    except GitLabError as failure:
        if failure.status == 401:
            return [error(
                f"GitLab at {url} refused the token (401): it is wrong, expired or revoked; create a "
                f"new one with scope `api` for the bot's user and set {ENV_PREFIX}GITLAB_TOKEN"
            )]
        if failure.status == 0:
            return [error(f"cannot reach GitLab at {url}: {failure.message}; check gitlab_url and the network")]
        return [error(f"GitLab at {url} answered {failure.status} for the bot's own user: {failure.message}")]
    found = [ok(f"GitLab at {url} accepts the token: the bot acts as @{user.username}")]
    found.append(_check_scopes(gitlab.token_info()))
    try:
        project = gitlab.project
    except GitLabError as failure:
        if failure.status in (403, 404):
            return found + [error(
                f"project {settings.project!r} is not visible to @{user.username}: check the id or "
                f"path (group/project) and add @{user.username} to the project as a developer"
            )]
        raise
    found.append(ok(f"project {project.path} is visible"))
    found += _check_role(gitlab.access_level(user.id), user.username)
    if found[-1].level == "error":
        return found  # too little access to read anything more
    if settings.staging.reviewer and gitlab.user_by_username(settings.staging.reviewer) is None:
        found.append(warning(f"staging.reviewer @{settings.staging.reviewer} is not a GitLab user here"))
    try:
        in_project = project_file.fetch(gitlab)
        applied = settings.with_project_file(in_project.layer if in_project else None)
    except ConfigError as problem:
        found += [error(f"{line} (the bot ignores the file until this is fixed)") for line in problem.problems]
    else:
        name = project_file.PROJECT_FILE
        found.append(ok(f"{name} on the default branch is valid") if in_project else ok(f"no {name} in the project (optional)"))
        found += [(ok if v.won == "project" else warning)(f"{name}: {v}") for v in applied.trust_verdicts]
    return found


def _check_scopes(token: dict[str, Any] | None) -> Finding:
    if token is None:
        return warning("token scopes not checked: this GitLab does not answer /personal_access_tokens/self")
    scopes = token.get("scopes") or []
    if "api" not in scopes:
        return error(
            f"the token's scopes are {', '.join(scopes) or 'none'}: the bot needs `api` (it writes "
            "labels and notes); create a token with scope `api`"
        )
    expires = token.get("expires_at")
    if expires and date.fromisoformat(expires[:10]) - date.today() < EXPIRY_WARNING:
        return warning(f"the token has scope api but expires on {expires[:10]}: renew it soon")
    return ok("the token has scope api" + (f" (expires {expires[:10]})" if expires else ""))


def _check_role(level: int, username: str) -> list[Finding]:
    role = _role(level)
    if level < ACCESS_LEVELS["reporter"]:
        return [error(
            f"@{username} is {'not a member' if level == 0 else role} in the project: the bot needs at "
            "least reporter (developer recommended) to label issues and write notes"
        )]
    found = [ok(f"@{username} is {role} in the project")]
    if level < ACCESS_LEVELS["developer"]:
        found.append(warning(f"@{username} is only {role}: make it developer so that it can act on every issue"))
    if level < ACCESS_LEVELS["maintainer"]:
        found.append(warning(
            f"`vorhoelle hook install` and PUT /api/v1/config (committing .vorhoelle.yml to a "
            f"protected default branch) need maintainer; @{username} is {role}"
        ))
    return found


def run_checks(
    config_file: str | None, *, offline: bool = False, connect: Callable[[Settings], Any] | None = None
) -> list[Finding]:
    """Every finding, in order. `connect` builds GitLab access (tests pass their own)."""
    try:
        settings = load_settings(config_file)
    except ConfigError as problem:
        return [error(line) for line in problem.problems]
    from bot.config.check_actions import check_actions

    found = [ok("settings are valid")] + check_notify(settings) + check_deployment(settings)
    found += check_actions(settings, offline=offline)
    if offline or any(f.level == "error" for f in found) or not settings.gitlab_url:
        return found
    if connect is None:
        from bot.gitlab_access import GitLabAccess

        connect = lambda s: GitLabAccess.from_settings(s, retries=0, timeout=10)  # noqa: E731 - fail fast
    return found + check_gitlab(settings, connect(settings))
