"""The record `send` trusts: GitLab's system note "changed the description", by the editor, which
nobody can edit or delete (GitLab's NotePolicy), on the sandbox as on GitLab."""

from __future__ import annotations

import gitlab
import pytest


def test_a_description_edit_leaves_a_system_note_by_its_editor_that_nobody_can_change(world):
    issue = world.project("bot").issues.create({"title": "t", "description": "as staged"})
    mine = world.project("reporter").issues.get(issue.iid)
    mine.title = "a new title only"
    mine.save()
    mine.description = "as the reporter wants it"
    mine.save()

    notes = world.project("reviewer").issues.get(issue.iid).notes.list(get_all=True)
    (record,) = [n for n in notes if n.system]
    assert record.body == "changed the description" and record.author["username"] == world.users["reporter"]["username"]
    assert world.project("reviewer").issues.get(issue.iid).user_notes_count == 0   # system notes are not counted
    for role in ("reporter", "maintainer"):
        notes_of_role = world.project(role).issues.get(issue.iid, lazy=True).notes
        with pytest.raises(gitlab.GitlabUpdateError):
            notes_of_role.update(record.id, {"body": "nothing happened"})
        with pytest.raises(gitlab.GitlabDeleteError):
            notes_of_role.delete(record.id)
