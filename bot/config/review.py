"""The `review` section: who a Slack or WhatsApp sender is in GitLab, for decisions made from a
message (bot/actions). A mapping grants that person's GitLab rights to whoever holds the Slack
account or the phone number, so it is the operator's alone: the project's `.vorhoelle.yml` and
PUT /api/v1/config cannot set it (bot/config/project_file.py::ALLOWED leaves it out).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_GITLAB_USERNAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$")


def _usernames(mapping: dict[str, str], key: re.Pattern[str], what: str) -> dict[str, str]:
    for sender, username in mapping.items():
        if not key.match(sender):
            raise ValueError(f"{sender!r} is not {what}")
        if not _GITLAB_USERNAME.match(username):
            raise ValueError(f"{username!r} (for {sender}) is not a GitLab username")
    return mapping


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack_users: dict[str, str] = {}      # Slack user id (U0123ABC) -> GitLab username
    slack_match_email: bool = False       # else: the Slack profile's confirmed e-mail = a GitLab public e-mail
    whatsapp_users: dict[str, str] = {}   # E.164 number (+4915112345678) -> GitLab username

    @field_validator("slack_users")
    @classmethod
    def _slack_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return _usernames(value, _SLACK_USER, "a Slack user id (like U0123ABC)")

    @field_validator("whatsapp_users")
    @classmethod
    def _numbers(cls, value: dict[str, str]) -> dict[str, str]:
        return _usernames(value, _PHONE, "a phone number in E.164 form (like +4915112345678)")
