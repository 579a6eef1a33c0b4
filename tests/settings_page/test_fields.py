"""fields.py without a server: what a form becomes, and where a problem is shown."""

from __future__ import annotations

from bot.config.settings import load_settings
from bot.web.settings_page import fields

SETTINGS = load_settings(gitlab_url="http://gitlab.example", project="a/b")


def _unchanged_form() -> list[tuple[str, str]]:
    form = [("batch", "on"), ("batch_seconds", "60"), ("threshold", "70"), ("emoji_enabled", "on"),
            ("emoji_approve", "thumbsup"), ("emoji_reject", "thumbsdown")]
    labels = SETTINGS.staging.score_labels
    form.append(("score_label_rows", str(len(labels))))
    for index, label in enumerate(labels):
        form += [(f"score_label.{index}.{part}", str(getattr(label, part))) for part in ("min", "label", "color")]
    routed = fields.event_channels(SETTINGS)
    return form + [(f"event.{event}", channel) for event, channels in routed.items() for channel in channels]


def test_a_form_as_shown_changes_nothing_and_keeps_the_file_as_it_is():
    file_data = {"catch_up": {"attempts": 5}}
    assert fields.project_data(_unchanged_form(), SETTINGS, file_data) == file_data


def test_only_what_changed_is_written():
    form = [(n, v) for n, v in _unchanged_form() if n != "batch"] + [("quiet_enabled", "on"), ("quiet_start", "22:00"),
                                                                     ("quiet_end", "06:00"), ("quiet_timezone", "UTC")]
    assert fields.project_data(form, SETTINGS, {}) == {
        "notify": {"batch": False, "quiet_hours": {"start": "22:00", "end": "06:00", "timezone": "UTC"}}}


def test_a_forged_row_count_neither_fails_nor_runs_away():
    for count in ("lots", "99999999999", "-1", "²"):
        form = [(n, v) for n, v in _unchanged_form() if n != "score_label_rows"] + [("score_label_rows", count)]
        data = fields.project_data(form, SETTINGS, {})
        assert len(data.get("staging", {}).get("score_labels", [])) <= fields.MAX_LABEL_ROWS


def test_problems_land_at_the_setting_they_name():
    placed, rest = fields.problems_by_field([
        ".vorhoelle.yml:3: notify.quiet_hours.start: '25:00' is not a time of day",
        ".vorhoelle.yml:9: workflow.transitions: the operator's value applies",
        ".vorhoelle.yml:5: notify.batch_seconds: Input should be greater than or equal to 0",
    ])
    assert list(placed) == ["notify.quiet_hours", "notify.batch_seconds"]
    assert rest == [".vorhoelle.yml:9: workflow.transitions: the operator's value applies"]


def test_the_other_settings_leave_recipients_and_secrets_out():
    settings = load_settings(gitlab_url="http://gitlab.example", project="a/b", notify={"channels": {
        "email": {"enabled": True, "to": ["boss@example.com"], "sender": "bot@example.com", "transport": "smtp",
                  "smtp": {"host": "smtp.example", "password": "hunter22"}}}})
    shown = " ".join(f"{s.key} {s.value}" for s in fields.others(settings, None))
    assert "notify.channels.email.enabled true" in shown
    assert "boss@example.com" not in shown and "hunter22" not in shown
