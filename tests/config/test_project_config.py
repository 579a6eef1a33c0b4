"""Settings kept in the project: committed through GitLab, delivered by a Push Hook, applied by
the running bot, and written back by PUT /api/v1/config as a readable commit."""

from __future__ import annotations

import base64

import yaml

from tests.config.project import API_TOKEN, put_config, reloads
from tests.support.botserver import running_bot, served_bot_settings
from tests.support.waiting import wait_until
from tests.support.world import new_world


def test_a_pushed_file_is_applied_and_a_broken_one_is_not(world, bot):
    maintainer = world.project("maintainer")
    assert bot.runtime.settings.staging.threshold == 70
    maintainer.files.create({"file_path": ".vorhoelle.yml", "branch": "main", "commit_message": "Stricter staging",
                             "content": "staging:\n  threshold: 85\n"})
    wait_until(lambda: bot.runtime.settings.staging.threshold == 85, message="the pushed threshold")

    invalid_before = reloads("invalid")
    maintainer.files.update(".vorhoelle.yml", {"branch": "main", "commit_message": "Oops",
                                               "content": "staging:\n  threshold: 85\napi_token: leaked\n"})
    wait_until(lambda: reloads("invalid") > invalid_before, message="the broken file to be refused")
    assert bot.runtime.settings.staging.threshold == 85
    assert bot.runtime.settings.api_token.get_secret_value() == API_TOKEN

    maintainer.files.delete(file_path=".vorhoelle.yml", branch="main", commit_message="Back to defaults")
    wait_until(lambda: bot.runtime.settings.staging.threshold == 70, message="the defaults after removal")


def test_a_push_elsewhere_changes_nothing(world, bot):
    applied_before = reloads("applied") + reloads("removed")
    world.project("maintainer").files.create({"file_path": "README.md", "branch": "main",
                                              "commit_message": "Docs", "content": "# jobs\n"})
    wait_until(lambda: any(e["response_status"] == "202" for e in bot.runtime.gitlab.hook_events(
        bot.runtime.gitlab.hooks()[0]["id"])), message="the push to be delivered")
    assert reloads("applied") + reloads("removed") == applied_before


def test_put_writes_a_commit_and_applies_it(world, bot):
    answer = put_config(bot, {"settings": {"staging": {"threshold": 90},
                                           "notify": {"quiet_hours": {"start": "22:00", "end": "07:00",
                                                                      "timezone": "Europe/Berlin"}}},
                              "author": "Alice Reviewer"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["effective"]["staging"]["threshold"] == 90
    assert bot.runtime.settings.notify.quiet_hours.timezone == "Europe/Berlin"

    project = world.project("maintainer")
    commit = project.commits.list(ref_name="main", get_all=True)[0]
    assert commit.title == "Vorhölle settings: change notify.quiet_hours, staging.threshold"
    assert "Written through PUT /api/v1/config by Alice Reviewer." in commit.message
    assert commit.author_name == bot.runtime.gitlab.bot_user.name
    stored = yaml.safe_load(base64.b64decode(project.files.get(".vorhoelle.yml", ref="main").content))
    assert stored["staging"] == {"threshold": 90}

    again = put_config(bot, {"settings": {"staging": {"threshold": 75}}})
    assert again.status_code == 200
    assert project.commits.list(ref_name="main", get_all=True)[0].title == (
        "Vorhölle settings: change notify.quiet_hours, staging.threshold")
    wait_until(lambda: bot.runtime.settings.staging.threshold == 75)


def test_put_refuses_secrets_and_invalid_values_and_writes_nothing(world, bot):
    refused = put_config(bot, {"settings": {"gitlab_token": "glpat-fake-commit",
                                            "staging": {"threshold": 101}}})
    assert refused.status_code == 422
    assert refused.json() == {"error": "invalid settings", "problems": [
        ".vorhoelle.yml:1: gitlab_token is a secret and must not be in the repository; give it to the "
        "bot as VORHOELLE_GITLAB_TOKEN",
    ]}
    assert "glpat-fake-commit" not in refused.text
    invalid = put_config(bot, {"settings": {"staging": {"threshold": 101}}})
    assert invalid.status_code == 422
    assert invalid.json()["problems"] == [
        ".vorhoelle.yml:2: staging.threshold: Input should be less than or equal to 100 (got 101)"]
    assert put_config(bot, {"staging": {}}).json()["error"] == "invalid request"
    assert put_config(bot, {"settings": {}}, token="wrong").status_code == 401
    assert world.project("maintainer").commits.list(get_all=True) == []


def test_put_without_push_rights_says_what_to_change(sandbox):
    world = new_world(sandbox)  # the bot is a developer: main is protected
    with running_bot(served_bot_settings(world, api_token=API_TOKEN)) as running:
        answer = put_config(running, {"settings": {"staging": {"threshold": 80}}})
        assert answer.status_code == 403
        assert "make it a maintainer" in answer.json()["detail"]
        assert running.runtime.settings.staging.threshold == 70


def test_a_file_that_is_not_utf8_or_not_plain_yaml_is_refused_and_the_bot_keeps_going(world, bot):
    maintainer = world.project("maintainer")
    invalid_before = reloads("invalid")
    latin1 = base64.b64encode("# Vorhölle, saved as Latin-1\nstaging:\n  threshold: 85\n".encode("latin-1")).decode()
    maintainer.files.create({"file_path": ".vorhoelle.yml", "branch": "main", "commit_message": "Latin-1",
                             "content": latin1, "encoding": "base64"})
    wait_until(lambda: reloads("invalid") == invalid_before + 1, message="the Latin-1 file to be refused")
    maintainer.files.update(".vorhoelle.yml", {"branch": "main", "commit_message": "A list as a key",
                                               "content": "staging:\n  [threshold]: 85\n"})
    wait_until(lambda: reloads("invalid") == invalid_before + 2, message="the odd YAML to be refused")
    assert bot.runtime.settings.staging.threshold == 70

    # The broken file can be replaced through the API; the commit message counts it as empty.
    answer = put_config(bot, {"settings": {"staging": {"threshold": 80}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["commit_message"].startswith("Vorhölle settings: change staging.threshold")
