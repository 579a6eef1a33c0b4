"""The files a staged issue links: default attachments from the settings, read once per cycle
before anything is written, and the match's own files, uploaded to the project."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from bot.config.settings import Settings
from bot.seams import GitLab
from bot.staging.description import Attached
from bot.staging.errors import StagingError
from bot.staging.match import Attachment, Match

Defaults = dict[str, tuple[str, bytes]]   # default attachment name -> (file name, content)


def read_defaults(settings: Settings, matches: list[Match]) -> Defaults:
    """The default attachments (staging.attachments) the cycle's stageable matches name."""
    wanted = {a.name for m in matches if m.score >= settings.staging.threshold for a in m.attachments if a.is_default}
    files = {}
    for name in sorted(wanted):
        path = settings.staging.attachments.get(name)
        if path is None:
            raise StagingError(f"no default attachment named {name!r} in staging.attachments")
        try:
            files[name] = (Path(path).name, Path(path).read_bytes())
        except OSError as error:
            raise StagingError(f"staging.attachments.{name}: cannot read {path}: {error.strerror}") from None
    return files


def attach(gitlab: GitLab, defaults: Defaults, attachment: Attachment) -> Attached:
    """Upload one file and return the link to it (the name shown escaped, the URL encoded)."""
    if attachment.is_default:
        file_name, data = defaults[attachment.name]
    else:
        file_name, data = attachment.safe_name(), attachment.data()
    upload = gitlab.upload(file_name, data)
    return Attached(name=attachment.name, url=Markup(quote(upload["url"], safe="/:%")))
