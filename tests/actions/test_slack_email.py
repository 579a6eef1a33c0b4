"""Who a Slack user is in GitLab without a mapping: with `review.slack_match_email` on, the Slack
profile's confirmed e-mail names the GitLab user showing it as their public e-mail."""

from __future__ import annotations

import gitlab
import pytest

from tests.actions.conftest import Desk, desk_settings
from tests.fakes.slack import FakeSlack, interaction, press
from tests.support.botserver import install_hook_for, running_bot
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(120)
RITA_SLACK, UNCONFIRMED_SLACK = "U0RITA001", "U0UNCONF1"


@pytest.fixture
def desk(sandbox, world, tmp_path):
    admin = gitlab.Gitlab(world.url, private_token=sandbox.root_token)
    reviewer = admin.users.get(world.users["reviewer"]["id"])
    reviewer.public_email = "rita.review@example.com"
    reviewer.save()
    with FakeSlack(scopes="chat:write,channels:history,users:read,users:read.email") as slack:
        slack.profiles = {RITA_SLACK: ("Rita.Review@example.com", True),
                          UNCONFIRMED_SLACK: ("rita.review@example.com", False)}
        with running_bot(desk_settings(world, slack, tmp_path, slack_match_email=True)) as bot:
            install_hook_for(bot, world)
            yield Desk(sandbox, world, bot, slack)


def test_a_confirmed_email_matching_a_public_one_acts_as_that_user(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", RITA_SLACK))

    wait_until(lambda: desk.labels(iid) == {"job-match/approved"}, message="the approval")
    (step,) = desk.history(iid)
    assert step["username"] == desk.world.users["reviewer"]["username"] and step["channel"] == "slack"


def test_an_unconfirmed_email_is_nobody(desk):
    iid, message = desk.stage()
    interaction(desk.bot.url, press(message, iid, "approve", UNCONFIRMED_SLACK))

    wait_until(lambda: desk.slack.said_to(UNCONFIRMED_SLACK), message="the answer")
    assert desk.slack.said_to(UNCONFIRMED_SLACK)[0].startswith("I don't know you in GitLab")
    assert desk.decisions(iid) == []
