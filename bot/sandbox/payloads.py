"""Webhook bodies built as GitLab's data builders build them (lib/gitlab/data_builder/,
lib/gitlab/hook_data/; held against their key lists in tests/sandbox/test_contracts.py).

Every timestamp in a body is in GitLab's hook style, `"2025-08-26 06:49:04 UTC"` (captured
deliveries, 2023-2025); the documentation's ISO 8601 examples are older. Relative upload links
are made absolute, as GitLab does for hooks.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.context import Sandbox
from bot.sandbox.store import Award, Issue, Label, Note, Project, User, parse_time
from bot.sandbox.views import avatar_url, issue_labels

VISIBILITY_LEVELS = {"private": 0, "internal": 10, "public": 20}
_RELATIVE_UPLOAD = re.compile(r"\]\((/uploads/[^)\s]+)\)")


def hook_time(value: str | None) -> str | None:
    """`2025-01-10 10:00:00 UTC`, GitLab's hook timestamp style."""
    return parse_time(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def absolute_uploads(sandbox: Sandbox, project: Project, text: str | None) -> str | None:
    if not text:
        return text
    base = sandbox.web_url(project.path_with_namespace)
    return _RELATIVE_UPLOAD.sub(lambda m: f"]({base}{m.group(1)})", text)


def hook_user(user: User) -> dict[str, Any]:
    """A person as GitLab's `User#hook_attrs` gives them: actor and assignees alike."""
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "avatar_url": avatar_url(user),
        "email": "[REDACTED]",
    }


def hook_project(sandbox: Sandbox, project: Project) -> dict[str, Any]:
    web_url = sandbox.web_url(project.path_with_namespace)
    host = sandbox.base_url.split("://", 1)[-1]
    ssh = f"git@{host}:{project.path_with_namespace}.git"
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "web_url": web_url,
        "avatar_url": None,
        "git_ssh_url": ssh,
        "git_http_url": f"{web_url}.git",
        "namespace": project.namespace,
        "visibility_level": VISIBILITY_LEVELS[project.visibility],
        "path_with_namespace": project.path_with_namespace,
        "default_branch": "main",
        "ci_config_path": None,
        "homepage": web_url,
        "url": f"{web_url}.git",
        "ssh_url": ssh,
        "http_url": f"{web_url}.git",
    }


def hook_repository(sandbox: Sandbox, project: Project) -> dict[str, Any]:
    web_url = sandbox.web_url(project.path_with_namespace)
    return {
        "name": project.name,
        "url": f"{web_url}.git",
        "description": project.description,
        "homepage": web_url,
    }


def hook_label(label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "title": label.name,
        "color": label.color,
        "project_id": label.project_id,
        "created_at": hook_time(label.created_at),
        "updated_at": hook_time(label.updated_at),
        "template": False,
        "description": label.description,
        "type": "ProjectLabel",
        "group_id": None,
    }


def issue_url(sandbox: Sandbox, project: Project, issue: Issue) -> str:
    return sandbox.web_url(f"{project.path_with_namespace}/-/issues/{issue.iid}")


def issue_attributes(sandbox: Sandbox, project: Project, issue: Issue) -> dict[str, Any]:
    """The issue as GitLab's `IssueBuilder` renders it: an Issue Hook's `object_attributes`, and
    the `issue` inside Note and Emoji Hooks alike (lib/gitlab/hook_data/issue_builder.rb)."""
    return {
        "id": issue.id,
        "title": issue.title,
        "assignee_ids": list(issue.assignee_ids),
        "assignee_id": issue.assignee_ids[0] if issue.assignee_ids else None,
        "author_id": issue.author_id,
        "project_id": issue.project_id,
        "created_at": hook_time(issue.created_at),
        "updated_at": hook_time(issue.updated_at),
        "updated_by_id": issue.updated_by_id,
        "last_edited_at": hook_time(issue.last_edited_at),
        "last_edited_by_id": issue.last_edited_by_id,
        "relative_position": 0,
        "description": absolute_uploads(sandbox, project, issue.description),
        "milestone_id": None,
        "state_id": 1 if issue.state == "opened" else 2,
        "confidential": issue.confidential,
        "discussion_locked": None,
        "due_date": issue.due_date,
        "moved_to_id": None,
        "duplicated_to_id": issue.duplicated_to_id,
        "time_estimate": 0,
        "total_time_spent": 0,
        "time_change": 0,
        "human_total_time_spent": None,
        "human_time_estimate": None,
        "human_time_change": None,
        "weight": None,
        "health_status": None,
        "type": "Issue",
        "iid": issue.iid,
        "url": issue_url(sandbox, project, issue),
        "state": issue.state,
        "severity": "unknown",
        "customer_relations_contacts": [],
        "labels": [hook_label(label) for label in issue_labels(sandbox, issue)],
        "closed_at": hook_time(issue.closed_at),
    }


def issue_hook(
    sandbox: Sandbox,
    project: Project,
    issue: Issue,
    actor: User,
    action: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """`Issue Hook` / `Confidential Issue Hook` body; `action`: open, update, close, reopen."""
    store = sandbox.store
    assignees = [hook_user(store.require("users", uid)) for uid in issue.assignee_ids]
    payload: dict[str, Any] = {
        "object_kind": "issue",
        "event_type": "confidential_issue" if issue.confidential else "issue",
        "user": hook_user(actor),
        "project": hook_project(sandbox, project),
        "object_attributes": issue_attributes(sandbox, project, issue) | {"action": action},
        "repository": hook_repository(sandbox, project),
    }
    if assignees:
        payload["assignees"] = assignees
        payload["assignee"] = assignees[0]
    payload["labels"] = payload["object_attributes"]["labels"]
    payload["changes"] = changes
    return payload


def note_url(sandbox: Sandbox, project: Project, issue: Issue, note: Note) -> str:
    return f"{issue_url(sandbox, project, issue)}#note_{note.id}"


def note_attributes(sandbox: Sandbox, project: Project, issue: Issue, note: Note) -> dict[str, Any]:
    """The comment as GitLab's `NoteBuilder` renders it (lib/gitlab/hook_data/note_builder.rb):
    a Note Hook's `object_attributes` and the `note` of an Emoji Hook on a comment."""
    body = absolute_uploads(sandbox, project, note.body)
    return {
        "attachment": None,
        "author_id": note.author_id,
        "change_position": None,
        "commit_id": None,
        "created_at": hook_time(note.created_at),
        "discussion_id": note.discussion_id,
        "id": note.id,
        "internal": note.internal,
        "line_code": None,
        "note": body,
        "noteable_id": issue.id,
        "noteable_type": "Issue",
        "original_position": None,
        "position": None,
        "project_id": project.id,
        "resolved_at": None,
        "resolved_by_id": None,
        "resolved_by_push": None,
        "st_diff": None,
        "system": note.system,
        "type": None if note.individual else "DiscussionNote",
        "updated_at": hook_time(note.updated_at),
        "updated_by_id": None,
        "description": body,
        "url": note_url(sandbox, project, issue, note),
    }


def note_hook(
    sandbox: Sandbox, project: Project, issue: Issue, note: Note, actor: User, action: str
) -> dict[str, Any]:
    """`Note Hook` / `Confidential Note Hook` body; `action`: create or update."""
    confidential = note.internal or issue.confidential
    return {
        "object_kind": "note",
        "event_type": "confidential_note" if confidential else "note",
        "user": hook_user(actor),
        "project_id": project.id,
        "project": hook_project(sandbox, project),
        "repository": hook_repository(sandbox, project),
        "object_attributes": note_attributes(sandbox, project, issue, note) | {"action": action},
        "issue": issue_attributes(sandbox, project, issue),
    }


def emoji_hook(
    sandbox: Sandbox,
    project: Project,
    issue: Issue,
    award: Award,
    actor: User,
    action: str,
    note: Note | None = None,
) -> dict[str, Any]:
    """`Emoji Hook` body; `action`: award or revoke; `note` when the award is on a comment."""
    target_url = note_url(sandbox, project, issue, note) if note else issue_url(sandbox, project, issue)
    payload: dict[str, Any] = {
        "object_kind": "emoji",
        "event_type": action,
        "user": hook_user(actor),
        "project_id": project.id,
        "project": hook_project(sandbox, project),
        "object_attributes": {
            "user_id": award.user_id,
            "created_at": hook_time(award.created_at),
            "id": award.id,
            "name": award.name,
            "awardable_type": award.awardable_type,
            "awardable_id": award.awardable_id,
            "updated_at": hook_time(award.created_at),
            "action": action,
            "awarded_on_url": target_url,
        },
    }
    if note is not None:
        payload["note"] = note_attributes(sandbox, project, issue, note)
    payload["issue"] = issue_attributes(sandbox, project, issue)
    return payload
