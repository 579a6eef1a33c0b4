"""The pieces of deciding from a message that need no GitLab: button values, the outcome in place,
and the answer when GitLab fails (a stand-in that raises as GitLabAccess does)."""

from __future__ import annotations

from types import SimpleNamespace

from bot.actions.decide import Asked, decide
from bot.actions.slack_blocks import decided_in_place, match_actions, pressed
from bot.gitlab_access import GitLabError
from bot.render import render


def test_only_values_the_bot_wrote_name_a_match():
    assert pressed('{"iid":12,"from":"pending"}') == (12, "pending")
    for forged in ['{"iid":0,"from":"pending"}', '{"iid":12,"from":"sent"}', "12", "", '{"iid":"x","from":"pending"}']:
        assert pressed(forged) is None


def test_the_outcome_replaces_only_that_matchs_buttons():
    blocks = [{"type": "section", "text": {}}, match_actions("staged", 3, "https://gitlab.example.com/3"),
              match_actions("staged", 4, "https://gitlab.example.com/4")]
    after = decided_in_place(blocks, 3, "✅ Approved")
    assert after[1] == {"type": "context", "block_id": "vorhoelle:3", "elements": [{"type": "mrkdwn", "text": "✅ Approved"}]}
    assert after[0] == blocks[0] and after[2] == blocks[2]
    assert match_actions("rejected", 3, "https://gitlab.example.com/3") is None


def test_gitlab_failing_is_an_answer_not_an_error():
    def unreachable(username):
        raise GitLabError(0, "connection refused")

    runtime = SimpleNamespace(gitlab=SimpleNamespace(user_by_username=unreachable))
    decided = decide(runtime, Asked("whatsapp", "SM" + "0" * 32, 12, "approve", "rita"))

    assert decided.result == "gitlab_failed"
    assert render("actions/answer.txt.j2", d=decided, sender="+4915100000001").strip() == (
        "GitLab did not answer, so I could not approve #12; please try again in a minute.")
