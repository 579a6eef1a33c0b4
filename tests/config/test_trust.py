"""The trust rule (bot/config/trust.py): rights and recipients come from the operator; the
project's .vorhoelle.yml and PUT /api/v1/config may only make them stricter."""

from __future__ import annotations

import os

from bot.config.check import run_checks
from bot.config.project_file import parse_project_file
from bot.config.settings import load_settings
from bot.markers import parse_markers
from tests.config.project import put_config, reloads
from tests.support.botserver import settle
from tests.support.waiting import wait_until

GUEST_MAY_APPROVE = """\
workflow:
  transitions:
    - {from: pending, to: approved, min_access: guest}
    - {from: pending, to: rejected, min_access: maintainer}
"""
OPERATOR = """\
notify:
  channels:
    email: {enabled: false, transport: smtp, sender: me@example.com, to: [me@example.com, rita@example.com]}
"""


def project(text):
    return parse_project_file(text)


def test_the_project_may_raise_a_step_or_drop_it_but_never_lower_or_add_one():
    added = "    - {from: rejected, to: sent, min_access: guest}\n"
    settings = load_settings(project_file=project(GUEST_MAY_APPROVE + added))

    steps = {(t.from_state, t.to_state): t.min_access for t in settings.workflow.transitions}
    assert steps == {("pending", "approved"): "developer", ("pending", "rejected"): "maintainer"}
    dropped = [f"{t.from_state} -> {t.to_state}" for t in load_settings().workflow.transitions
               if (t.from_state, t.to_state) not in steps]  # the review's steps back, and the lifecycle's
    assert dropped[:4] == ["approved -> sent", "approved -> pending", "rejected -> pending", "sent -> pending"]
    assert [str(v) for v in settings.trust_verdicts] == [
        "workflow.transitions: the operator's value applies: the step pending -> approved needs developer "
        "(the project asks guest); a project may raise it, not lower it",
        "workflow.transitions: the project's value applies: the step pending -> rejected needs maintainer, "
        "more than the operator's developer (stricter)",
        "workflow.transitions: the operator's value applies: the step rejected -> sent (guest) is not in the "
        "operator's workflow; a project may drop steps, not add them",
        f"workflow.transitions: the project's value applies: it drops the steps {', '.join(dropped)} (stricter)",
    ]


def test_recipients_and_channels_may_only_shrink(tmp_path):
    operator = tmp_path / "bot.yml"
    operator.write_text(OPERATOR)
    looser = load_settings(operator, project_file=project(
        "notify:\n  admin_channel: email\n  channels:\n"
        "    email: {enabled: true, to: [me@example.com, evil@example.com], send_application: {enabled: true}}\n"
        "    slack: {channel: '#elsewhere'}\n"))
    email = looser.notify.channels.email
    assert email.to == ["me@example.com", "rita@example.com"]
    assert (email.enabled, email.send_application.enabled) == (False, False)
    assert (looser.notify.admin_channel, looser.notify.channels.slack.channel) == (None, None)
    assert {v.dotted for v in looser.trust_verdicts if v.won == "operator"} == {
        "notify.channels.email.enabled", "notify.channels.email.to", "notify.channels.slack.channel",
        "notify.channels.email.send_application.enabled", "notify.admin_channel"}

    stricter = load_settings(operator, project_file=project(
        "notify:\n  channels:\n    email: {to: [rita@example.com], send_application: {attachment: null}}\n"
        "    console: {enabled: false}\n"))
    assert stricter.notify.channels.email.to == ["rita@example.com"]
    assert stricter.notify.channels.email.send_application.attachment is None
    assert stricter.notify.channels.console.enabled is False
    assert {v.won for v in stricter.trust_verdicts} == {"project"}


def test_a_match_cannot_start_past_the_review():
    settings = load_settings(project_file=project("workflow:\n  initial_state: approved\n"))
    assert settings.workflow.initial_state == "pending"
    assert [str(v) for v in settings.trust_verdicts] == [
        "workflow.initial_state: the operator's value applies: the state a new match starts in is the "
        "operator's to choose (the project names 'approved')"]


def test_the_environment_is_the_operators_too(monkeypatch):
    monkeypatch.setenv("VORHOELLE_NOTIFY__ADMIN_CHANNEL", "console")
    settings = load_settings(project_file=project("notify:\n  admin_channel: slack\n"))
    assert settings.notify.admin_channel == "console"


def test_a_pushed_file_cannot_let_a_guest_approve_and_put_refuses_it(sandbox, world, bot, caplog):
    applied = reloads("applied")
    world.project("maintainer").files.create({"file_path": ".vorhoelle.yml", "branch": "main",
                                              "commit_message": "Guests may approve", "content": GUEST_MAY_APPROVE})
    wait_until(lambda: reloads("applied") > applied, message="the pushed file to be applied")
    assert any(r.levelname == "WARNING" and "the step pending -> approved needs developer" in r.getMessage()
               for r in caplog.records)
    assert {(t.from_state, t.to_state): t.min_access for t in bot.runtime.settings.workflow.transitions} == {
        ("pending", "approved"): "developer", ("pending", "rejected"): "maintainer"}

    iid = world.project("bot").issues.create({"title": "Backend Engineer", "labels": "job-match,job-match/pending"}).iid
    world.project("guest").issues.get(iid).notes.create({"body": "/accept"})
    wait_until(lambda: refusals(world, iid), message="the guest's /accept to be refused")
    settle(sandbox, bot)
    assert "job-match/pending" in world.project("reviewer").issues.get(iid).labels

    answer = put_config(bot, {"settings": {"notify": {"admin_channel": "console"}}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"] == [
        ".vorhoelle.yml:2: notify.admin_channel: the operator's value applies: the project names 'console', the "
        "operator None; a project may leave the admin channel out, not change it"]


def test_config_check_says_which_value_won_and_why(sandbox, world, monkeypatch):
    for name in [n for n in os.environ if n.startswith("VORHOELLE_")]:
        monkeypatch.delenv(name)
    for name, value in {"VORHOELLE_GITLAB_URL": world.url, "VORHOELLE_GITLAB_TOKEN": world.users["bot"]["token"],
                        "VORHOELLE_PROJECT": world.path}.items():
        monkeypatch.setenv(name, value)
    world.project("maintainer").files.create({"file_path": ".vorhoelle.yml", "branch": "main",
                                              "commit_message": "Guests may approve", "content": GUEST_MAY_APPROVE})
    found = [str(f) for f in run_checks(None)]
    assert ("! .vorhoelle.yml: workflow.transitions: the operator's value applies: the step pending -> approved "
            "needs developer (the project asks guest); a project may raise it, not lower it") in found
    assert ("✓ .vorhoelle.yml: workflow.transitions: the project's value applies: the step pending -> rejected "
            "needs maintainer, more than the operator's developer (stricter)") in found


def refusals(world, iid):
    bot_id = world.users["bot"]["id"]
    notes = world.project("reviewer").issues.get(iid).notes.list(get_all=True)
    return [n for n in notes if n.author["id"] == bot_id and any(m.kind == "refusal" for m in parse_markers(n.body))]
