"""The `notify` section: quiet hours, which events go to which channels, each channel's own
settings, and retries (bot/notify reads them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.sections import Section
from bot.config.values import check_label_name, check_time_zone, check_username

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class QuietHours(Section):
    start: str
    end: str
    timezone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _is_clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value.strip()):
            raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. \"22:00\"")
        return value.strip()

    _zone = field_validator("timezone")(check_time_zone)


class EventRule(Section):
    """Who hears about one kind of event: a bare list of channels is short for `{channels: [...]}`."""

    channels: list[str] = ["all"]
    min_score: int = Field(0, ge=0, le=100)

    @model_validator(mode="before")
    @classmethod
    def _list_is_channels(cls, value: Any) -> Any:
        return {"channels": value} if isinstance(value, list) else value


class ConsoleChannel(Section):
    enabled: bool = True
    outbox: Path | None = Path("vorhoelle-outbox.jsonl")


class GitLabTodoChannel(Section):
    enabled: bool = True
    reviewer: str | None = None   # GitLab username; default: staging.reviewer

    _reviewer = field_validator("reviewer")(check_username)


class SlackChannel(Section):
    enabled: bool = False
    webhook_url: SecretStr | None = None
    bot_token: SecretStr | None = None
    channel: str | None = None
    api_url: str = "https://slack.com/api/"
    timeout_seconds: float = 10
    signing_secret: SecretStr | None = None  # the Slack app's: buttons on, POST /slack/actions open

    @model_validator(mode="after")
    def _one_way_in(self) -> "SlackChannel":
        if self.enabled and not (self.webhook_url or (self.bot_token and self.channel)):
            raise ValueError("slack needs webhook_url, or bot_token and channel")
        return self


class GmailTransport(Section):
    token_file: Path | None = None            # OAuth user token (authorized_user JSON)
    service_account_file: Path | None = None  # with domain-wide delegation to `sender`
    api_endpoint: str | None = None           # only for tests and proxies


class SmtpTransport(Section):
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = 30


class SendApplicationSettings(Section):
    enabled: bool = False
    attachment: str | None = "cv"   # a name from staging.attachments, attached when present


class EmailChannel(Section):
    enabled: bool = False
    transport: Literal["gmail", "smtp"] = "gmail"
    sender: str | None = None
    to: list[str] = []
    gmail: GmailTransport = GmailTransport()
    smtp: SmtpTransport = SmtpTransport()
    send_application: SendApplicationSettings = SendApplicationSettings()

    @model_validator(mode="after")
    def _addressed(self) -> "EmailChannel":
        if self.enabled and not (self.sender and self.to):
            raise ValueError("email needs sender and at least one address in to")
        if self.enabled and self.transport == "gmail" and not (
            self.gmail.token_file or self.gmail.service_account_file
        ):
            raise ValueError("email via gmail needs gmail.token_file or gmail.service_account_file")
        return self


class WhatsAppChannel(Section):
    enabled: bool = False
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None   # E.164, e.g. +14155550100 (the "whatsapp:" prefix is added)
    to: list[str] = []
    # WhatsApp allows free text only within 24 h of the recipient's last message; a notifier
    # that writes first must use an approved template (Content SID).
    mode: Literal["template", "free_text"] = "template"
    content_sid: str | None = None
    api_url: str | None = None       # only for tests: where the Twilio API is
    inbound: bool = False            # replies ("A 12", "R 12 reason") reach POST /twilio/inbound

    @model_validator(mode="after")
    def _complete(self) -> "WhatsAppChannel":
        if not self.enabled:
            return self
        if not (self.account_sid and self.auth_token and self.from_number and self.to):
            raise ValueError("whatsapp needs account_sid, auth_token, from_number and to")
        if self.mode == "template" and not self.content_sid:
            raise ValueError("whatsapp in template mode needs content_sid (or mode: free_text)")
        return self


class NotifyChannels(Section):
    console: ConsoleChannel = ConsoleChannel()
    gitlab_todo: GitLabTodoChannel = GitLabTodoChannel()
    slack: SlackChannel = SlackChannel()
    email: EmailChannel = EmailChannel()
    whatsapp: WhatsAppChannel = WhatsAppChannel()


class RetrySettings(Section):
    attempts: int = Field(3, ge=1)
    max_wait_seconds: float = Field(30, ge=0)
    report_after_rounds: int = Field(3, ge=1)   # failed rounds before the admin hears of it
    rest_max_minutes: float = Field(60, gt=0)   # longest pause before trying a failing channel


class NotifySettings(Section):
    """What the reviewer hears, where, and when (bot/notify)."""

    batch: bool = True
    batch_seconds: float = Field(60, ge=0)   # how long a fresh staged match waits for its cycle
    quiet_hours: QuietHours | None = None
    admin_channel: str | None = None
    max_age_days: float = Field(7, gt=0)     # older events are history, not news
    notes_per_minute: int = Field(50, ge=1)  # GitLab.com allows 60 note creations a minute
    claim_lease_seconds: float = Field(600, ge=0)  # another instance's unrecorded send: alive this long
    owed_label: str = "vorhoelle/notify-owed"
    events: dict[str, EventRule] = {}
    channels: NotifyChannels = NotifyChannels()
    retry: RetrySettings = RetrySettings()

    _label = field_validator("owed_label")(check_label_name)

    @model_validator(mode="after")
    def _events_name_known_channels(self) -> "NotifySettings":
        known = sorted(NotifyChannels.model_fields)
        for event, rule in self.events.items():
            for name in rule.channels:
                if name != "all" and name not in known:
                    raise ValueError(
                        f"events.{event} names unknown channel {name!r}; use 'all' or one of {known}"
                    )
        texts = [name for name in known if name != "gitlab_todo"]
        if self.admin_channel == "gitlab_todo":
            raise ValueError(f"admin_channel 'gitlab_todo' cannot carry the bot's health reports (a to-do "
                             f"has no text); use one of {texts}")
        if self.admin_channel is not None and self.admin_channel not in known:
            raise ValueError(f"admin_channel {self.admin_channel!r} is not one of the channels {texts}")
        return self
