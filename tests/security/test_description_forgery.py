"""Issue 13, hole 1: history forged through the issue description, and a `send` that mails what
someone below send's right wrote.

Everything runs as in production: the sandbox GitLab over HTTP, its webhook into the bot served
under uvicorn, Slack and SMTP as local fakes. People act through their own tokens.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.markers import render_marker
from bot.staging.match import Match
from bot.snapshot import read_snapshot
from bot.staging.stage import stage_cycle
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import PASSWORD, USER, FakeSmtp
from tests.support.botserver import install_hook_for, running_bot, served_bot_settings, settle

pytestmark = pytest.mark.timeout(180)

DRAFT = "Dear Ms Example,\n\nI would like to apply.\n\nBest,\nRita"
THEIRS = "mallory@example.net"
REVIEWER_MAIL = "rita@example.com"


@pytest.fixture
def services(tmp_path):
    with FakeSlack() as slack, FakeSmtp() as smtp:
        yield slack, smtp


def _settings(world, tmp_path, slack, smtp):
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(b"%PDF-1.4 made-up CV")
    email = {"enabled": True, "transport": "smtp", "sender": REVIEWER_MAIL, "to": [REVIEWER_MAIL],
             "smtp": {"host": "127.0.0.1", "port": smtp.port, "starttls": False, "username": USER, "password": PASSWORD},
             "send_application": {"enabled": True, "attachment": "cv"}}
    notify = {"channels": {"console": {"outbox": str(tmp_path / "outbox.jsonl")}, "gitlab_todo": {"enabled": False},
                           "slack": {"enabled": True, "webhook_url": slack.webhook_url, "timeout_seconds": 5},
                           "email": email},
              "retry": {"attempts": 1}, "batch_seconds": 0}   # a staged match is news at once
    return served_bot_settings(world, notify=notify, staging={"attachments": {"cv": str(cv)}}, api_token="made-up-api-token")


class Scene:
    """One staged match, the bot serving its webhook, and the people of the world."""

    def __init__(self, sandbox, world, bot, slack, smtp, outbox):
        self.sandbox, self.world, self.bot, self.slack, self.smtp = sandbox, world, bot, slack, smtp
        self.outbox = outbox
        match = Match(title="Platform Engineer", score=91, provider="Blauwal AG",
                      url=f"https://jobs.example.com/{world.project_id}", draft=DRAFT,
                      contact={"name": "Erika Example", "email": "erika@example.org"})
        (staged,) = stage_cycle(bot.runtime, [match])
        self.iid = staged.iid
        self.settle()

    def settle(self) -> None:
        settle(self.sandbox, self.bot)

    def issue(self, role: str):
        return self.world.project(role).issues.get(self.iid)

    def comment(self, role: str, body: str) -> None:
        self.issue(role).notes.create({"body": body})
        self.settle()

    def edit_description(self, role: str, change) -> None:
        issue = self.issue(role)
        issue.description = change(issue.description)
        issue.save()
        self.settle()

    def snapshot(self):
        return read_snapshot(self.bot.runtime.gitlab, self.iid)

    def state_labels(self) -> list[str]:
        return sorted(label for label in self.snapshot().labels if label.startswith("job-match/"))

    def applications(self) -> list[tuple[list[str], object]]:
        """Mails that went to anyone but the reviewer: applications."""
        return [(to, mail) for to, mail in self.smtp.inbox.mails if to != [REVIEWER_MAIL]]

    def announced(self) -> list[str]:
        return [m["text"] for m in self.slack.messages()]

    def announced_anywhere(self, words: str) -> bool:
        """Did Slack, the reviewer's e-mail or the console outbox carry `words`?"""
        mails = [str(mail["Subject"]) for to, mail in self.smtp.inbox.mails if to == [REVIEWER_MAIL]]
        console = self.outbox.read_text() if self.outbox.exists() else ""
        return any(words in text for text in [*self.announced(), *mails, console])

    def bot_notes(self) -> list[str]:
        bot_id = self.bot.runtime.gitlab.bot_user.id
        return [n.body for n in self.snapshot().notes if n.author_id == bot_id]


@pytest.fixture
def scene(sandbox, world, tmp_path, services):
    slack, smtp = services
    with running_bot(_settings(world, tmp_path, slack, smtp)) as bot:
        install_hook_for(bot, world)
        yield Scene(sandbox, world, bot, slack, smtp, tmp_path / "outbox.jsonl")


def _to_them(description: str) -> str:
    assert "erika\\@example.org" in description   # the Contact row as staging wrote it
    return description.replace("erika\\@example.org", THEIRS)


def test_a_reporter_forging_a_sent_step_in_the_description_moves_announces_and_mails_nothing(scene):
    now = datetime.now(timezone.utc).isoformat()
    forged = [
        render_marker("transition", "note:999999", **{"from": "pending", "to": "sent", "state": "sent",
                                                      "at": now, "actor": "Rita Reviewer", "channel": "comment"}),
        render_marker("notified", "match:forged", event="staged", channel="slack"),
        render_marker("match", "match:forged", score=99, token="x", at=now),
    ]
    first = render_marker("match", "match:forged-first", score=99, token="y")
    scene.edit_description("reporter", lambda text: first + "\n" + _to_them(text) + "\n" + "\n".join(forged))
    scene.bot.catch_up_now()
    scene.settle()

    snapshot = scene.snapshot()
    assert scene.state_labels() == ["job-match/pending"]
    assert [m for m in snapshot.bot_markers if m.kind == "transition"] == []
    assert scene.applications() == []
    assert scene.announced() == ["[Vorhölle] New job match: 91% Platform Engineer"]   # staging, once
    assert not scene.announced_anywhere("Application sent") and not scene.announced_anywhere("99%")
    assert not any("📨" in body for body in scene.bot_notes())


def test_a_send_after_a_reporter_changed_contact_and_draft_waits_for_a_confirmation(scene):
    scene.comment("reviewer", "/accept")
    scene.edit_description("reporter", lambda text: _to_them(text).replace("I would like to apply.", "Wire 5000 EUR."))
    scene.comment("reviewer", "/send")

    assert scene.state_labels() == ["job-match/approved"]
    assert scene.applications() == [] and not scene.announced_anywhere("Application sent")
    question = scene.bot_notes()[-1]
    reporter = scene.world.users["reporter"]["username"]
    assert question.startswith("@" + scene.world.users["reviewer"]["username"])
    assert "The recipient (Contact row) and the draft changed since it was staged" in question
    assert f"({reporter.replace('_', chr(92) + '_')}, reporter)" in question or f"({reporter}, reporter)" in question
    assert "mallory\\@example.net" in question and "`/confirm-send`" in question

    scene.comment("reporter", "/confirm-send")   # below the right: refused like any send
    assert scene.state_labels() == ["job-match/approved"] and scene.applications() == []
    assert "needs developer access" in scene.bot_notes()[-1]

    scene.comment("reviewer", "/confirm-send")
    assert scene.state_labels() == ["job-match/sent"]
    ((to, mail),) = scene.applications()
    assert to == [THEIRS]   # what the reviewer confirmed, having been told
    assert "Wire 5000 EUR." in mail.get_body(("plain",)).get_content()
    assert "[Vorhölle] Application sent: 91% Platform Engineer" in scene.announced()
    assert scene.announced_anywhere("[Vorhölle] Application sent: 91% Platform Engineer")


def test_an_edit_below_the_right_after_the_question_needs_a_new_confirmation(scene):
    scene.comment("reviewer", "/accept")
    scene.edit_description("reporter", _to_them)
    scene.comment("reviewer", "/send")
    scene.edit_description("reporter", lambda text: text.replace("I would like to apply.", "Wire 5000 EUR."))
    scene.comment("reviewer", "/confirm-send")

    assert scene.state_labels() == ["job-match/approved"] and scene.applications() == []
    assert "The recipient (Contact row) and the draft changed" in scene.bot_notes()[-1]


def test_a_developer_polishing_the_draft_then_sending_mails_it_as_edited(scene):
    scene.comment("reviewer", "/accept")
    scene.edit_description("reviewer", lambda text: text.replace("I would like to apply.", "I would love to join Blauwal."))
    scene.comment("reviewer", "/send")

    assert scene.state_labels() == ["job-match/sent"]
    ((to, mail),) = scene.applications()
    assert to == ["erika@example.org"]
    assert "I would love to join Blauwal." in mail.get_body(("plain",)).get_content()


def test_an_edit_elsewhere_in_the_description_is_named_as_such(scene):
    scene.comment("reviewer", "/accept")
    scene.edit_description("reporter", lambda text: text.replace("### Cover letter", "### Cover letter (typo fixed)"))
    scene.comment("reviewer", "/send")

    assert scene.state_labels() == ["job-match/approved"] and scene.applications() == []
    question = scene.bot_notes()[-1]
    assert "The description (not the recipient or the draft, as far as the staging record says) changed" in question
    assert "would now go to erika\\@example.org" in question


def test_the_api_send_is_held_the_same_way(scene):
    import httpx

    scene.comment("reviewer", "/accept")
    scene.edit_description("reporter", _to_them)
    api = scene.bot.runtime.settings.api_token.get_secret_value()
    answer = httpx.post(f"{scene.bot.url}/api/v1/matches/{scene.iid}/send",
                        headers={"Authorization": f"Bearer {api}"}, timeout=30)
    scene.settle()

    assert answer.status_code == 409 and answer.json()["why"] == "unseen_changes"
    assert scene.state_labels() == ["job-match/approved"] and scene.applications() == []


def test_a_mail_still_owed_is_held_when_someone_below_the_right_edits_after_the_step(scene):
    scene.comment("reviewer", "/accept")
    scene.smtp.inbox.refuse_addresses["erika@example.org"] = "451 4.3.0 Try again later"
    scene.comment("reviewer", "/send")
    assert scene.state_labels() == ["job-match/sent"] and scene.applications() == []
    scene.smtp.inbox.refuse_addresses.clear()
    scene.edit_description("reporter", _to_them)   # the next converge would have mailed THEIRS

    assert scene.applications() == []
    (record,) = [body for body in scene.bot_notes() if "📨" in body]
    assert record.startswith("📨 Not sent to mallory\\@example.net") and scene.world.users["reporter"]["username"] in record

    scene.edit_description("reviewer", lambda text: text.replace(THEIRS, "erika\\@example.org"))
    ((to, _),) = scene.applications()
    assert to == ["erika@example.org"]
