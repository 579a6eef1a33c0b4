"""Settings kept in the project itself: `.vorhoelle.yml` on the default branch.

The people who review matches can tune the workflow, staging and notifications where they work,
with GitLab's history as the record of who changed what. The file is one more settings layer
(bot/config/settings.py: above the bot's own file, below the environment) and may only hold the
settings in `ALLOWED`: never a secret, and nothing that names a host, a file or an endpoint the
bot would send credentials to, since anyone with push access could otherwise redirect them.

It is read at start, re-read on a Push Hook to the default branch that touches it, and written
back (`PUT /api/v1/config`) as a commit through GitLab's repository files API. A file that does
not validate is never applied: the bot keeps its previous settings and logs every problem.
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from typing import Any

import yaml

from bot import metrics
from bot.config.explain import is_secret_path
from bot.config.files import ENV_PREFIX, ConfigError, YamlLayer, parse_yaml
from bot.config.settings import Settings
from bot.config.sources import SECRET_ENV
from bot.config.trust import looser
from bot.escape import commit_line
from bot.runtime import Runtime
from bot.seams import GitLab

log = logging.getLogger(__name__)

PROJECT_FILE = ".vorhoelle.yml"
MAX_FILE_BYTES = 256 * 1024  # more is not settings, and would only cost parsing
# Applying settings (a reload's or a PUT's) happens under this lock and counts one generation up
# (`runtime.settings_generation`). A reload reads the file without it, then applies only if no
# one applied anything meanwhile, else reads again: what it read may be older than what was
# applied (a PUT that answered while the reload was reading), and must not win over it.
_applying = threading.Lock()
READ_ATTEMPTS = 3

# What the project file may set; "*" stands for any one key (a channel's name).
ALLOWED: tuple[tuple[str, ...], ...] = (
    ("workflow",),
    ("staging", "threshold"),
    ("staging", "title_template"),
    ("staging", "score_labels"),
    ("staging", "reviewer"),
    ("staging", "max_field_chars"),
    ("catch_up",),
    ("notify", "batch"),
    ("notify", "batch_seconds"),
    ("notify", "quiet_hours"),
    ("notify", "admin_channel"),
    ("notify", "max_age_days"),
    ("notify", "notes_per_minute"),
    ("notify", "own_actions"),
    ("notify", "owed_label"),
    ("notify", "events"),
    ("notify", "retry"),
    ("notify", "channels", "*", "enabled"),
    ("notify", "channels", "*", "to"),
    ("notify", "channels", "*", "channel"),
    ("notify", "channels", "*", "sender"),
    ("notify", "channels", "*", "from_number"),
    ("notify", "channels", "*", "mode"),
    ("notify", "channels", "*", "content_sid"),
    ("notify", "channels", "*", "reviewer"),
    ("notify", "channels", "email", "send_application"),
)


@dataclass(frozen=True)
class ProjectFile:
    """The project's settings file as found on its default branch."""

    layer: YamlLayer
    last_commit_id: str
    branch: str


def _allowed(loc: tuple[str, ...]) -> bool:
    return any(
        len(loc) >= len(rule) and all(r in ("*", part) for r, part in zip(rule, loc)) for rule in ALLOWED
    )


def _leaves(data: Any, loc: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in `data` that is either allowed as a whole or has no keys below it."""
    if _allowed(loc) or not isinstance(data, dict) or not data:
        return [loc]
    return [path for key, value in data.items() for path in _leaves(value, loc + (str(key),))]


def _refusal(loc: tuple[str, ...]) -> str:
    dotted = ".".join(loc)
    if is_secret_path(loc):
        names = [f"{ENV_PREFIX}{name}" for name, path in SECRET_ENV.items() if path == loc]
        where = names[0] if names else f"{ENV_PREFIX}{'__'.join(loc).upper()}"
        return f"{dotted} is a secret and must not be in the repository; give it to the bot as {where}"
    return (
        f"{dotted} cannot be set from the project (it is the bot's deployment, not its workflow); "
        "set it in the bot's own settings file or environment"
    )


def parse_project_file(text: str, name: str = PROJECT_FILE) -> YamlLayer:
    """Parse the file and refuse what it may not set, every problem at `name:line`."""
    layer = parse_yaml(text, name)
    refused = [
        f"{name}:{layer.line_of(loc) or 1}: {_refusal(loc)}"
        for loc in _leaves(layer.data)
        # Unknown names are left to the settings model, which suggests the likely spelling.
        if loc and not _allowed(loc) and loc[0] in Settings.model_fields
    ]
    if refused:
        raise ConfigError(refused)
    return layer


def default_branch(gitlab: GitLab) -> str:
    """GitLab reports no default branch while the repository is empty; its first push makes one,
    named `main` unless the instance says otherwise."""
    return gitlab.project.default_branch or "main"


def _fetch_content(gitlab: GitLab) -> tuple[bytes, str, str] | None:
    """(content, last_commit_id, branch) of the file on the default branch, None without one."""
    branch = default_branch(gitlab)
    found = gitlab.repository_file(PROJECT_FILE, branch)
    if found is None:
        return None
    return base64.b64decode(found["content"]), found["last_commit_id"], branch


def fetch(gitlab: GitLab) -> ProjectFile | None:
    """The file on the default branch, parsed and checked; None when there is none."""
    found = _fetch_content(gitlab)
    if found is None:
        return None
    content, last_commit_id, branch = found
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError([f"{PROJECT_FILE}: {len(content):,} bytes; a settings file has at most "
                           f"{MAX_FILE_BYTES:,} (a few kilobytes is usual)"])
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([f"{PROJECT_FILE}: not UTF-8 text (byte {error.start}); save the file as UTF-8"]) from None
    return ProjectFile(parse_project_file(text), last_commit_id, branch)


def reload(runtime: Runtime) -> str:
    """Re-read the project file and apply it; on any problem keep the settings the bot has.

    Returns the outcome: `applied`, `removed` (no file: back to the bot's own settings),
    `invalid`, `unavailable` (GitLab did not answer), or `superseded` (settings were applied
    by someone else each time this read the file; theirs stay). What this read is applied only
    if nothing was applied since it started reading, so an older file never wins.
    """
    from bot.gitlab_access import GitLabError

    for _ in range(READ_ATTEMPTS):
        generation = runtime.settings_generation
        try:
            found = fetch(runtime.gitlab)
            settings = runtime.settings.with_project_file(found.layer if found else None)
        except ConfigError as error:
            return _not_applied("invalid", "; ".join(error.problems))
        except GitLabError as error:
            return _not_applied("unavailable", str(error))
        with _applying:
            if runtime.settings_generation != generation:
                continue  # applied meanwhile: what was read may be older, so read again
            _apply(runtime, settings)
        break
    else:
        return _not_applied("superseded", "newer settings were applied while it was read")
    outcome = "applied" if found else "removed"
    metrics.CONFIG_RELOADS.labels(outcome=outcome).inc()
    for verdict in looser(settings.trust_verdicts):
        log.warning("%s: %s", PROJECT_FILE, verdict, extra={"event": "config_reload", "outcome": "operator_wins"})
    said = (f"{PROJECT_FILE} applied (commit {found.last_commit_id[:8]})" if found
            else f"no {PROJECT_FILE} in the project: the bot's own settings apply")
    log.info("%s", said, extra={"event": "config_reload", "outcome": outcome})
    return outcome


def _apply(runtime: Runtime, settings: Settings) -> None:
    """Put `settings` in effect (the caller holds `_applying`)."""
    runtime.settings = settings
    runtime.settings_generation += 1


def _not_applied(outcome: str, why: str) -> str:
    metrics.CONFIG_RELOADS.labels(outcome=outcome).inc()
    log.error("%s not applied, the bot keeps its settings: %s", PROJECT_FILE, why,
              extra={"event": "config_reload", "outcome": outcome})
    return outcome


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Dotted names of the allowed settings that differ between two files."""
    old_leaves = {loc: _at(old, loc) for loc in _leaves(old) if loc}
    new_leaves = {loc: _at(new, loc) for loc in _leaves(new) if loc}
    return sorted(
        ".".join(loc) for loc in old_leaves.keys() | new_leaves.keys()
        if old_leaves.get(loc) != new_leaves.get(loc)
    )


def _at(data: Any, loc: tuple[str, ...]) -> Any:
    for key in loc:
        data = data.get(key) if isinstance(data, dict) else None
    return data


@dataclass(frozen=True)
class Author:
    """Who asked for a write, and through which door: named in the commit message. With an
    `email` (the settings page's signed-in person) they are also the commit's author; without
    one the commit is the bot's user's."""

    name: str
    via: str = "PUT /api/v1/config"
    email: str | None = None


def commit_message(old: dict[str, Any], new: dict[str, Any], author: Author) -> str:
    changed = _changed_keys(old, new)
    if not changed:
        title = f"Rewrite {PROJECT_FILE} (no setting changed)"
    elif len(changed) <= 3:
        title = f"Vorhölle settings: change {', '.join(changed)}"
    else:
        title = f"Vorhölle settings: change {len(changed)} settings"
    lines = "\n".join(f"- {key}" for key in changed)
    by = commit_line(author.name) or "the REST API"
    return f"{title}\n\nWritten through {author.via} by {by}.\n\n{lines}".rstrip() + "\n"


@dataclass(frozen=True)
class Checked:
    """A would-be project file that passed every check: its text, and the settings it makes."""

    text: str
    layer: YamlLayer
    settings: Settings


def check(runtime: Runtime, data: dict[str, Any]) -> Checked:
    """Validate `data` as the whole project file, as a push would be and under the trust rule;
    ConfigError with one line per problem (`config check`'s wording) otherwise."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    layer = parse_project_file(text)
    settings = runtime.settings.with_project_file(layer)
    refused = looser(settings.trust_verdicts)
    if refused:  # asked now: say no, rather than commit a file whose values would not apply
        raise ConfigError([f"{PROJECT_FILE}:{layer.line_of(v.setting) or 1}: {v}" for v in refused])
    return Checked(text, layer, settings)


def current_text(gitlab: Any) -> tuple[str, str | None]:
    """The file's text on the default branch ("" without one) and its last commit id, to show
    what a change would do (the settings page's diff)."""
    current = _fetch_content(gitlab)
    if current is None:
        return "", None
    return current[0].decode("utf-8", errors="replace"), current[1]


def write(runtime: Runtime, data: dict[str, Any], author: Author,
          base_commit: str | None = None) -> dict[str, Any]:
    """Validate `data` as the whole project file and commit it to the default branch.

    Nothing is written unless the result is valid settings (ConfigError otherwise); a broken
    file already in the repository can be replaced this way. The new settings apply at once,
    and the Push Hook that follows re-reads the same file. With `base_commit` (the file's last
    commit when the change was shown) a file changed since is not overwritten: StaleFile.
    """
    checked = check(runtime, data)
    current = _fetch_content(runtime.gitlab)
    if base_commit is not None and (current[1] if current else "") != base_commit:
        raise StaleFile(f"{PROJECT_FILE} changed since the change was shown")
    old = _readable(current[0].decode("utf-8", errors="replace")) if current else {}
    message = commit_message(old, checked.layer.data, author)
    branch = current[2] if current else default_branch(runtime.gitlab)
    with _applying:  # a reload that read the file before this commit will read it again
        answer = runtime.gitlab.write_repository_file(
            PROJECT_FILE, checked.text, branch=branch, commit_message=message,
            last_commit_id=current[1] if current else None,
            author=(author.name, author.email) if author.email else None,
        )
        _apply(runtime, checked.settings)
    log.info("%s written by %s through %s: %s", PROJECT_FILE, commit_line(author.name), author.via,
             message.splitlines()[0], extra={"event": "config_write", "outcome": "committed"})
    return {"file_path": answer.get("file_path", PROJECT_FILE), "branch": branch, "message": message,
            "commit_id": _commit_of(runtime.gitlab, branch)}


class StaleFile(Exception):
    """The project file changed in GitLab after the change to it was shown."""


def _commit_of(gitlab: Any, branch: str) -> str | None:
    """The commit the write made: the file's last commit, read back (the files API does not say)."""
    found = gitlab.repository_file(PROJECT_FILE, branch)
    return found["last_commit_id"] if found else None


def _readable(text: str) -> dict[str, Any]:
    """The old file's settings for the commit message; a broken file (or one with aliases, which
    would be walked expanded) counts as empty."""
    try:
        return parse_yaml(text, PROJECT_FILE).data
    except ConfigError:
        return {}
