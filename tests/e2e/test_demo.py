"""`vorhoelle serve` with no GitLab configured: its own sandbox, a demo project, the hook installed."""

from __future__ import annotations

import httpx

from tests.support.botserver import API_TOKEN, LoggedProcess, ready
from tests.support.waiting import wait_until
from tests.support.world import client

UNSET = {name: None for name in ("VORHOELLE_GITLAB_URL", "VORHOELLE_GITLAB_TOKEN", "VORHOELLE_PROJECT",
                               "VORHOELLE_WEBHOOK_SECRET", "VORHOELLE_CONFIG")}


def test_serve_without_a_gitlab_runs_a_working_demo(tmp_path):
    bot = LoggedProcess("serve", "--port", "0", env={**UNSET, "VORHOELLE_LOGGING__FORMAT": "text", "VORHOELLE_API_TOKEN": API_TOKEN}, cwd=str(tmp_path))  # noqa: E501
    try:
        url = bot.wait_for(r"listening on (http://\S+)").group(1)
        banner = bot.wait_for(r"sandbox:\s+(\S+)\s+\(admin token: (\S+)\)")
        assert any("NO GITLAB CONFIGURED" in line for line in bot.lines)
        assert any("VORHOELLE_GITLAB_URL" in line for line in bot.lines)  # how to point at a real one
        gitlab_url, admin_token = banner.groups()
        wait_until(lambda: httpx.get(f"{url}/health/ready").status_code == 200, message="the bot to be ready")
        assert ready(url).json()["project"] == "root/job-matches"

        project = client(gitlab_url, admin_token).projects.get("root/job-matches")
        issue = project.issues.create({"title": "Demo match", "labels": "job-match,job-match/pending"})
        issue.notes.create({"body": "/accept"})
        wait_until(lambda: "job-match/approved" in project.issues.get(issue.iid).labels,
                   message="the demo bot to approve through its webhook")
    finally:
        assert bot.stop() in (0, -15), "\n".join(bot.lines[-20:])
