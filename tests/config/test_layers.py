"""Settings layers (defaults < file < project file < env < secret files < arguments) and the
exact words of every problem they report."""

from __future__ import annotations

import pytest

from bot.config.files import ConfigError
from bot.config.masking import public_view, secret_values
from bot.config.project_file import parse_project_file
from bot.config.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("VORHOELLE_"):
            monkeypatch.delenv(name)


def write(tmp_path, text, name="vorhoelle.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(config_file=None, **over):
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file, **over)
    return caught.value.problems


def test_each_layer_overrides_the_one_below(tmp_path, monkeypatch):
    assert load_settings().staging.threshold == 70  # config/vorhoelle.yml
    user = write(tmp_path, "staging:\n  threshold: 75\n  reviewer: alice\n")
    assert load_settings(user).staging.threshold == 75
    project = parse_project_file("staging:\n  threshold: 80\n")
    assert load_settings(user, project_file=project).staging.threshold == 80
    monkeypatch.setenv("VORHOELLE_STAGING__THRESHOLD", "85")
    settings = load_settings(user, project_file=project)
    assert settings.staging.threshold == 85
    assert settings.staging.reviewer == "alice"  # untouched keys come from the lower layers
    assert load_settings(user, staging={"threshold": 90}).staging.threshold == 90


def test_the_config_file_comes_from_the_environment_unless_given(tmp_path, monkeypatch):
    monkeypatch.setenv("VORHOELLE_CONFIG", str(write(tmp_path, "staging: {threshold: 60}\n")))
    assert load_settings().staging.threshold == 60
    assert load_settings(write(tmp_path, "staging: {threshold: 65}\n", "other.yml")).staging.threshold == 65


def test_a_secret_file_wins_over_the_plain_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN", "glpat-fake-env-00")
    assert load_settings().gitlab_token.get_secret_value() == "glpat-fake-env-00"
    monkeypatch.setenv("VORHOELLE_GITLAB_TOKEN_FILE", str(write(tmp_path, "glpat-from-a-file\n", "token")))
    assert load_settings().gitlab_token.get_secret_value() == "glpat-from-a-file"


def test_channel_secrets_have_names_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setenv("VORHOELLE_SLACK_WEBHOOK_URL", "https://hooks.example.org/T000/B000/xyz")
    monkeypatch.setenv("VORHOELLE_SLACK_TOKEN", "xoxb-fake-bot")
    monkeypatch.setenv("VORHOELLE_TWILIO_AUTH_TOKEN", "twilio-auth-token")
    monkeypatch.setenv("VORHOELLE_SMTP_PASSWORD_FILE", str(write(tmp_path, "smtp-app-password", "smtp")))
    monkeypatch.setenv("VORHOELLE_GMAIL_TOKEN_FILE", "/run/secrets/gmail.json")
    channels = load_settings().notify.channels
    assert channels.slack.webhook_url.get_secret_value() == "https://hooks.example.org/T000/B000/xyz"
    assert channels.slack.bot_token.get_secret_value() == "xoxb-fake-bot"
    assert channels.whatsapp.auth_token.get_secret_value() == "twilio-auth-token"
    assert channels.email.smtp.password.get_secret_value() == "smtp-app-password"
    assert str(channels.email.gmail.token_file) == "/run/secrets/gmail.json"


def test_secrets_are_masked_in_the_view_and_known_to_the_log_filter(monkeypatch):
    monkeypatch.setenv("VORHOELLE_SLACK_TOKEN", "xoxb-fake-bot")
    settings = load_settings(gitlab_token="glpat-abcdefghijklmnop", api_token="api-token-value")
    view = public_view(settings)
    assert view["gitlab_token"] == view["api_token"] == "**********"
    assert view["notify"]["channels"]["slack"]["bot_token"] == "**********"
    assert "glpat-abcdefghijklmnop" not in repr(view) and "xoxb" not in repr(view)
    assert secret_values(settings) == {"glpat-abcdefghijklmnop", "api-token-value", "xoxb-fake-bot"}


# --- every problem says where and what to do ------------------------------------------------


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "staging:\n  threshold: [80\nnotify: {}\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:3:")
    assert "YAML syntax error" in line


def test_a_key_written_twice_is_reported_with_both_lines(tmp_path):
    path = write(tmp_path, "staging:\n  threshold: 80\n  threshold: 90\n")
    assert problems(path) == [f"{path}:3: staging.threshold is written twice (first on line 2); keep one"]


def test_unknown_setting_suggests_the_likely_spelling(tmp_path):
    path = write(tmp_path, "logging: {level: INFO}\nstagin:\n  threshold: 80\n")
    assert problems(path) == [f"{path}:2: unknown setting 'stagin'; did you mean 'staging'?"]
    path = write(tmp_path, "staging:\n  treshold: 80\n")
    assert problems(path) == [f"{path}:2: unknown setting 'staging.treshold'; did you mean 'threshold'?"]


def test_out_of_range_value_shows_the_value_and_the_line(tmp_path):
    path = write(tmp_path, "staging:\n  threshold: 150\n")
    assert problems(path) == [f"{path}:2: staging.threshold: Input should be less than or equal to 100 (got 150)"]


def test_unknown_state_in_a_transition(tmp_path):
    path = write(tmp_path, "workflow:\n  transitions:\n    - {from: pending, to: aproved, min_access: developer}\n")
    assert problems(path) == [
        f"{path}:2: workflow.transitions: entry 0 (pending -> aproved): 'to' names unknown state "
        "'aproved'; known states: ['approved', 'declined', 'hired', 'interview', 'no-reply', 'offer', "
        "'pending', 'rejected', 'sent', 'turned-down', 'withdrawn']"
    ]


def test_quiet_hours_that_do_not_parse(tmp_path):
    path = write(tmp_path, 'notify:\n  quiet_hours:\n    start: "22h"\n    end: "7:00"\n    timezone: Europe/Berlinn\n')
    assert problems(path) == [
        f"{path}:3: notify.quiet_hours.start: '22h' is not a time of day; write it as HH:MM, e.g. \"22:00\"",
        f"{path}:4: notify.quiet_hours.end: '7:00' is not a time of day; write it as HH:MM, e.g. \"22:00\"",
        f"{path}:5: notify.quiet_hours.timezone: 'Europe/Berlinn' is not a known time zone; use an IANA "
        "name such as Europe/Berlin or UTC",
    ]


def test_a_channel_enabled_without_its_secret_names_the_variables(tmp_path):
    path = write(tmp_path, "notify:\n  channels:\n    slack:\n      enabled: true\n")
    assert problems(path) == [
        f"{path}:3: notify.channels.slack: slack needs webhook_url, or bot_token and channel (secrets: "
        "set VORHOELLE_SLACK_TOKEN or VORHOELLE_SLACK_WEBHOOK_URL or VORHOELLE_SLACK_SIGNING_SECRET, or the same "
        "names with _FILE)"
    ]


def test_an_event_naming_an_unknown_channel(tmp_path):
    path = write(tmp_path, "notify:\n  events:\n    staged: [slak]\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:1: notify: events.staged names unknown channel 'slak'; use 'all' or one of")


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("VORHOELLE_STAGING__THRESHOLD", "high")
    assert problems() == [
        "environment variable VORHOELLE_STAGING__THRESHOLD: staging.threshold: Input should be a valid "
        "integer, unable to parse string as an integer (got 'high')"
    ]


def test_unreadable_files_are_named(tmp_path, monkeypatch):
    assert problems(tmp_path / "missing.yml") == [
        f"{tmp_path / 'missing.yml'}: cannot read the settings file given by --config: No such file or directory"
    ]
    monkeypatch.setenv("VORHOELLE_API_TOKEN_FILE", str(tmp_path / "nope"))
    assert problems() == [
        f"VORHOELLE_API_TOKEN_FILE={tmp_path / 'nope'}: cannot read the secret file: No such file or directory"
    ]


def test_a_bad_secret_value_is_never_echoed():
    assert problems(gitlab_token=["glpat-do-not-print"]) == [
        "keyword argument gitlab_token: gitlab_token: Input should be a valid string"
    ]


# --- the project file may set the workflow, never secrets or the deployment -------------------


def test_the_project_file_refuses_secrets_and_deployment_settings():
    with pytest.raises(ConfigError) as caught:
        parse_project_file(
            "staging:\n  threshold: 80\n  attachments: {cv: /etc/passwd}\n"
            "gitlab_url: https://evil.example.org\n"
            "notify:\n  channels:\n    slack:\n      bot_token: xoxb-1\n      api_url: https://evil.example.org/\n"
        )
    assert caught.value.problems == [
        ".vorhoelle.yml:3: staging.attachments.cv cannot be set from the project (it is the bot's "
        "deployment, not its workflow); set it in the bot's own settings file or environment",
        ".vorhoelle.yml:4: gitlab_url cannot be set from the project (it is the bot's deployment, not "
        "its workflow); set it in the bot's own settings file or environment",
        ".vorhoelle.yml:8: notify.channels.slack.bot_token is a secret and must not be in the "
        "repository; give it to the bot as VORHOELLE_SLACK_TOKEN",
        ".vorhoelle.yml:9: notify.channels.slack.api_url cannot be set from the project (it is the "
        "bot's deployment, not its workflow); set it in the bot's own settings file or environment",
    ]


def test_a_typo_in_the_project_file_is_reported_at_its_line():
    project = parse_project_file("# tuned by the reviewers\nstagging:\n  threshold: 80\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(project_file=project)
    assert caught.value.problems == [".vorhoelle.yml:2: unknown setting 'stagging'; did you mean 'staging'?"]


def test_yaml_that_parses_but_cannot_be_settings_is_a_problem_not_a_crash(tmp_path):
    path = write(tmp_path, "staging:\n  [threshold]: 80\n")
    assert problems(path) == [f"{path}:2: a setting's name must be plain text, not a list or a mapping"]
    path = write(tmp_path, "staging:\n  threshold: !!python/object:os.system 80\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:2:") and "could not determine a constructor" in line
    with pytest.raises(ConfigError):   # what anyone with push access can commit
        parse_project_file("? {staging: 1}\n: 2\n")


def test_an_event_that_never_happens_is_named(tmp_path):
    path = write(tmp_path, "notify:\n  events:\n    aproved: [slack]\n")
    assert problems(path) == [
        f"{path}:1: notify: events.aproved is not an event; did you mean 'approved'? Events: staged, "
        "refused, reply, and one per workflow state: approved, declined, hired, interview, no-reply, offer, "
        "pending, rejected, sent, turned-down, withdrawn"
    ]


def test_the_admin_channel_must_carry_text(tmp_path):
    path = write(tmp_path, "notify:\n  admin_channel: gitlab_todo\n")
    assert problems(path) == [
        f"{path}:1: notify: admin_channel 'gitlab_todo' cannot carry the bot's health reports (a to-do "
        "has no text); use one of ['console', 'email', 'slack', 'whatsapp']"
    ]
