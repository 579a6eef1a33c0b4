"""An issue's due date, as GitLab keeps it: set with `due_date=YYYY-MM-DD`, cleared with an empty
value (or one that is no date: GitLab lets Rails cast it, to none)."""

from __future__ import annotations


def test_due_date_is_set_cleared_and_checked(world):
    project = world.project("reviewer")
    issue = project.issues.create({"title": "Interview soon"})
    assert issue.due_date is None

    project.issues.update(issue.iid, {"due_date": "2026-12-10"})
    assert project.issues.get(issue.iid).due_date == "2026-12-10"

    project.issues.update(issue.iid, {"due_date": ""})
    assert project.issues.get(issue.iid).due_date is None

    project.issues.update(issue.iid, {"due_date": "2026-12-12"})
    project.issues.update(issue.iid, {"due_date": "next Tuesday"})
    assert project.issues.get(issue.iid).due_date is None
