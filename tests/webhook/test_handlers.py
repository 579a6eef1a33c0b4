"""Handlers are pure: a payload and the bot's context in, "converge issue N" or "ignore" out.

The payloads are GitLab's own examples (tests/fixtures/gitlab_payloads), adjusted only where a
test needs a different actor, project or label.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.handlers.payload import HookPayload
from bot.handlers.router import Converge, Decision, HookContext, Ignore, ReloadSettings, Router, router

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab_payloads"
STATE_LABELS = {"job-match/pending", "job-match/approved", "job-match/rejected", "job-match/sent"}


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def decide(event: str, data: dict, ctx: HookContext) -> Decision:
    """The router's decision on `data` delivered as GitLab sends it, as JSON."""
    return router.decide(event, json.dumps(data).encode(), ctx)


def context(**changes) -> HookContext:
    base = dict(
        project_id=1,
        bot_user_id=7,
        bot_username="job-bot",
        watched_labels=frozenset({"job-match", *STATE_LABELS}),
    )
    return HookContext(**{**base, **changes})


def by_reviewer(data: dict) -> dict:
    data = copy.deepcopy(data)
    data["user"] = {"id": 9, "username": "reviewer", "name": "Reviewer"}
    return data


def test_a_reviewer_changing_the_state_label_asks_for_a_converge():
    decision = decide("Issue Hook", by_reviewer(payload("issue_update_labels_DERIVED")), context())
    assert decision == Converge(42, "issue update")


def test_the_bots_own_label_change_is_ignored():
    decision = decide("Issue Hook", payload("issue_update_labels_DERIVED"), context())
    assert decision == Ignore("the bot's own action")


def test_the_bot_is_recognised_by_username_when_the_payload_has_no_user_id():
    data = by_reviewer(payload("issue_update_labels_DERIVED"))
    data["user"] = {"username": "job-bot", "name": "Job Bot"}
    assert decide("Issue Hook", data, context()) == Ignore("the bot's own action")


def test_removing_the_last_job_match_label_still_counts_through_changes_previous():
    data = by_reviewer(payload("issue_update_labels_DERIVED"))
    data["object_attributes"]["labels"] = data["labels"] = []
    data["changes"]["labels"]["current"] = []
    assert isinstance(decide("Issue Hook", data, context()), Converge)


def test_an_issue_without_the_bots_labels_is_ignored():
    decision = decide("Issue Hook", payload("issue_doc_example"), context())
    assert decision == Ignore("issue #23 carries none of the bot's labels")


def test_other_projects_are_ignored():
    decision = decide("Issue Hook", by_reviewer(payload("issue_open_DERIVED")), context(project_id=2))
    assert decision == Ignore("event from project 1, the bot watches project 2")


def test_legacy_payload_without_event_type_or_user_id_is_read():
    decision = decide("Issue Hook", payload("issue_legacy_webhooks_md_example"), context(project_id=1))
    assert decision == Ignore("issue #23 carries none of the bot's labels")


@pytest.mark.parametrize("broken", [
    {},
    {"object_kind": "issue", "project": {"id": 1}},
    {"object_kind": "issue", "project": {"id": 1}, "object_attributes": {"iid": "x"}},
    {"object_kind": "issue", "project": "one", "object_attributes": None, "labels": "job-match"},
])
def test_missing_or_odd_fields_lead_to_ignore_not_an_exception(broken):
    for event in router.events():
        assert isinstance(decide(event, broken, context()), Ignore)


def test_confidential_issue_follows_the_setting():
    data = by_reviewer(payload("issue_update_labels_DERIVED"))
    data["object_attributes"]["confidential"] = True
    assert isinstance(decide("Confidential Issue Hook", data, context()), Converge)
    off = decide("Confidential Issue Hook", data, context(handle_confidential=False))
    assert off == Ignore("confidential events are off (workflow.confidential.handle: false)")


def test_a_command_comment_asks_for_a_converge():
    decision = decide("Note Hook", payload("note_issue_comment_DERIVED"), context())
    assert decision == Converge(42, "comment create with a command")


def test_a_command_on_an_issue_without_the_label_still_asks_for_a_converge():
    data = payload("note_issue_comment_DERIVED")
    data["issue"]["labels"] = []
    assert decide("Note Hook", data, context()) == Converge(42, "comment create with a command")


def test_plain_comment_without_the_label_is_ignored():
    decision = decide("Note Hook", payload("note_issue_doc_example"), context(project_id=5))
    assert decision == Ignore("a comment without a command on issue #17, which carries none of the bot's labels")


def test_the_bots_own_internal_note_is_ignored():
    decision = decide("Confidential Note Hook", payload("note_issue_internal_DERIVED"), context())
    assert decision == Ignore("the bot's own action")


def test_a_note_by_the_bot_through_another_actor_field_is_still_ignored():
    data = payload("note_issue_comment_DERIVED")
    data["object_attributes"]["author_id"] = 7
    assert decide("Note Hook", data, context()) == Ignore("the bot's own note")


def test_comment_on_a_merge_request_is_ignored():
    data = payload("note_issue_comment_DERIVED")
    data["object_attributes"]["noteable_type"] = "MergeRequest"
    assert decide("Note Hook", data, context()) == Ignore("a comment on a MergeRequest, not an issue")


def job_match_award(name="thumbsup", **attributes) -> dict:
    data = by_reviewer(payload("emoji_award_on_issue_DERIVED"))
    data["issue"]["labels"] = [{"title": "job-match"}, {"title": "job-match/pending"}]
    data["object_attributes"].update(name=name, **attributes)
    return data


def test_thumbs_up_on_a_job_match_asks_for_a_converge():
    decision = decide("Emoji Hook", job_match_award(), context(project_id=6))
    assert decision == Converge(42, "emoji thumbsup")


@pytest.mark.parametrize("data, ctx, reason", [
    (job_match_award("tada"), {}, "emoji 'tada' means nothing to the bot"),
    (job_match_award(awardable_type="Note"), {}, "emoji on a comment, not on the issue"),
    (job_match_award(), {"emoji_enabled": False}, "emoji reviews are off (workflow.emoji.enabled: false)"),
    (payload("emoji_award_on_issue_DERIVED"), {}, "the bot's own action"),
    ({**job_match_award(), "event_type": "revoke"}, {}, "taking an emoji back does not undo a decision"),
])
def test_emoji_that_mean_nothing_are_ignored(data, ctx, reason):
    bot = {"bot_user_id": 1, "bot_username": "root"} if data["user"]["id"] == 1 else {}
    assert decide("Emoji Hook", data, context(project_id=6, **{**bot, **ctx})) == Ignore(reason)


def test_push_and_unknown_events_are_ignored_with_a_reason():
    assert decide("Push Hook", {"object_kind": "push"}, context()) == Ignore("a push changes no job match")
    assert decide("Pipeline Hook", {}, context()) == Ignore("the bot does not act on 'Pipeline Hook' events")


def test_an_event_kind_cannot_have_two_handlers():
    local = Router()
    local.register("Issue Hook", payload=HookPayload)(lambda p, c: Ignore("first"))
    with pytest.raises(ValueError, match="already has a handler"):
        local.register("Issue Hook", payload=HookPayload)(lambda p, c: Ignore("second"))


def push(ref: str = "refs/heads/main", commits: object = None, total: object = None) -> dict:
    listed = [{"id": "a1", "added": [], "modified": [".vorhoelle.yml"], "removed": []}] if commits is None else commits
    return {"object_kind": "push", "ref": ref, "project": {"id": 1, "default_branch": "main"},
            "commits": listed, "total_commits_count": len(listed) if total is None else total}


@pytest.mark.parametrize("data, reloads", [
    (push(), True),
    (push(ref="refs/heads/feature"), False),
    (push(commits=[{"id": "a1", "added": ["README.md"], "modified": [], "removed": []}]), False),
    (push(commits=[{"id": "a1", "added": [], "modified": [], "removed": [".vorhoelle.yml"]}]), True),
    (push(commits=[{"id": "a1", "added": ["README.md"]}], total=21), True),   # GitLab lists 20 at most
    (push(commits=[{"id": "a1", "added": ".vorhoelle.yml (a string, not a list)"}]), False),
])
def test_a_push_to_the_default_branch_that_changes_the_project_file_reloads_the_settings(data, reloads):
    decision = decide("Push Hook", data, context())
    assert (decision == ReloadSettings("a push to the default branch changed .vorhoelle.yml")) is reloads
    assert reloads or decision == Ignore("a push changes no job match")


def test_a_payload_shaped_otherwise_than_gitlabs_is_ignored_saying_what_did_not_fit():
    data = by_reviewer(payload("issue_update_labels_DERIVED"))
    data["object_attributes"]["labels"] = {"title": "job-match"}   # an object where GitLab sends a list
    assert decide("Issue Hook", data, context()) == Ignore(
        "the payload is not shaped as GitLab's Issue Hook: Expected `array | null`, got `object`"
        " - at `$.object_attributes.labels`")
