"""Endpoints python-gitlab users call on issues, labels and uploads, answered as GitLab answers."""

from __future__ import annotations

import gitlab
import pytest


def test_closed_by_is_an_empty_list_as_no_merge_request_closes_a_sandbox_issue(world):
    issue = world.project("bot").issues.create({"title": "ACME - Engineer"})
    assert issue.closed_by() == []


def test_closed_by_of_an_unknown_issue_is_404(world):
    with pytest.raises(gitlab.GitlabGetError) as raised:
        world.project("bot").issues.get(999, lazy=True).closed_by()
    assert raised.value.response_code == 404


def test_one_discussion_is_got_by_its_id(world):
    issue = world.project("bot").issues.create({"title": "ACME - Engineer"})
    note = issue.notes.create({"body": "first"})
    reviewer_issue = world.project("reviewer").issues.get(issue.iid, lazy=True)
    (listed,) = reviewer_issue.discussions.list()
    got = reviewer_issue.discussions.get(listed.id)
    assert got.id == listed.id and [n["id"] for n in got.attributes["notes"]] == [note.id]
    with pytest.raises(gitlab.GitlabGetError) as raised:
        reviewer_issue.discussions.get("0" * 40)
    assert raised.value.response_code == 404


def test_a_label_is_subscribed_to_and_unsubscribed_from_per_person(world):
    world.project("bot").labels.create({"name": "job-match/pending", "color": "#428BCA"})
    mine = world.project("reviewer").labels.get("job-match/pending")
    assert mine.subscribed is False
    mine.subscribe()
    assert mine.subscribed is True
    assert world.project("reviewer").labels.get("job-match/pending").subscribed is True
    assert world.project("bot").labels.get("job-match/pending").subscribed is False
    with pytest.raises(gitlab.GitlabSubscribeError) as raised:     # already subscribed: 304
        mine.subscribe()
    assert raised.value.response_code == 304
    mine.unsubscribe()
    assert world.project("reviewer").labels.get("job-match/pending").subscribed is False
    with pytest.raises(gitlab.GitlabUnsubscribeError) as raised:
        mine.unsubscribe()
    assert raised.value.response_code == 304


@pytest.mark.parametrize(("filename", "alt", "markdown"), [
    ("cv.pdf", "cv.pdf", "[cv.pdf]({url})"),
    ("photo.png", "photo", "![photo]({url})"),
    ("demo.mp4", "demo", "![demo]({url})"),
    ("notes [draft].txt", "notes [draft\\].txt", "[notes [draft\\].txt]({url})"),
])
def test_an_upload_answers_the_markdown_gitlab_writes(world, filename, alt, markdown):
    uploaded = world.project("bot").upload(filename, filedata=b"data")
    assert uploaded["alt"] == alt
    assert uploaded["markdown"] == markdown.format(url=uploaded["url"])
