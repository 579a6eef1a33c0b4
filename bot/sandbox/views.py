"""Records rendered as GitLab's REST API (v4) JSON.

Shapes follow GitLab's API docs and tests/fixtures/gitlab_payloads/api_*; fields the sandbox has no
notion of (milestones, time tracking, epics) are present with GitLab's empty values, so clients
that read them do not trip.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.sandbox.context import Sandbox
from bot.sandbox.store import (
    Award,
    Issue,
    Label,
    LabelEvent,
    Member,
    Note,
    Project,
    Todo,
    User,
)


def avatar_url(user: User) -> str:
    digest = hashlib.sha256(user.email.lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?s=80&d=identicon"


def user_basic(sandbox: Sandbox, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "locked": False,
        "avatar_url": avatar_url(user),
        "web_url": sandbox.web_url(user.username),
    }


def user_full(sandbox: Sandbox, user: User, *, private: bool) -> dict[str, Any]:
    """`private`: the caller is the user or an admin, so e-mail and admin flag are shown."""
    data = user_basic(sandbox, user) | {
        "created_at": user.created_at,
        "bio": "",
        "location": "",
        "public_email": user.public_email,
        "skype": "",
        "linkedin": "",
        "twitter": "",
        "website_url": "",
        "organization": "",
        "job_title": "",
        "bot": False,
    }
    if private:
        data |= {
            "email": user.email,
            "is_admin": user.is_admin,
            "can_create_project": True,
            "can_create_group": True,
            "two_factor_enabled": False,
            "external": False,
            "private_profile": False,
            "last_sign_in_at": None,
            "current_sign_in_at": None,
            "confirmed_at": user.created_at,
            "identities": [],
            "commit_email": user.email,
            "pronouns": None,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "namespace_id": user.id,
        }
    return data


def project_json(sandbox: Sandbox, project: Project, access_level: int = 0) -> dict[str, Any]:
    store = sandbox.store
    owner = store.user_by_username(project.namespace)
    web_url = sandbox.web_url(project.path_with_namespace)
    api = f"{sandbox.base_url}/api/v4/projects/{project.id}"
    open_issues = sum(
        1 for i in store.all("issues") if i.project_id == project.id and i.state == "opened"
    )
    return {
        "id": project.id,
        "description": project.description,
        "name": project.name,
        "name_with_namespace": f"{owner.name if owner else project.namespace} / {project.name}",
        "path": project.path,
        "path_with_namespace": project.path_with_namespace,
        "created_at": project.created_at,
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@{sandbox.base_url.split('://')[-1]}:{project.path_with_namespace}.git",
        "http_url_to_repo": f"{web_url}.git",
        "web_url": web_url,
        "readme_url": None,
        "avatar_url": None,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": project.created_at,
        "namespace": {
            "id": owner.id if owner else 0,
            "name": owner.name if owner else project.namespace,
            "path": project.namespace,
            "kind": "user",
            "full_path": project.namespace,
            "parent_id": None,
            "avatar_url": None,
            "web_url": sandbox.web_url(project.namespace),
        },
        "visibility": project.visibility,
        "issues_enabled": True,
        "open_issues_count": open_issues,
        "creator_id": project.creator_id,
        "empty_repo": True,
        "archived": False,
        "_links": {
            "self": api,
            "issues": f"{api}/issues",
            "labels": f"{api}/labels",
            "members": f"{api}/members",
        },
        "permissions": {
            "project_access": (
                {"access_level": access_level, "notification_level": 3} if access_level else None
            ),
            "group_access": None,
        },
    }


def member_json(sandbox: Sandbox, member: Member) -> dict[str, Any]:
    store = sandbox.store
    user = store.require("users", member.user_id)
    creator = store.get("users", member.created_by_id) if member.created_by_id else None
    return user_basic(sandbox, user) | {
        "access_level": member.access_level,
        "created_at": member.created_at,
        "created_by": user_basic(sandbox, creator) if creator else None,
        "expires_at": member.expires_at,
        "email": user.email,
        "group_saml_identity": None,
        "membership_state": "active",
    }


def label_json(sandbox: Sandbox, label: Label, user: User | None = None) -> dict[str, Any]:
    store = sandbox.store
    issues = [i for i in store.all("issues") if label.id in i.label_ids]
    return {
        "id": label.id,
        "name": label.name,
        "color": label.color,
        "text_color": text_color(label.color),
        "description": label.description,
        "description_html": label.description or "",
        "open_issues_count": sum(1 for i in issues if i.state == "opened"),
        "closed_issues_count": sum(1 for i in issues if i.state == "closed"),
        "open_merge_requests_count": 0,
        "subscribed": user is not None and user.id in label.subscriber_ids,
        "priority": label.priority,
        "is_project_label": True,
        "archived": False,
    }


def label_basic(label: Label) -> dict[str, Any]:
    """A label as GitLab's `LabelBasic` entity exposes it (inside resource label events)."""
    return {
        "id": label.id,
        "name": label.name,
        "description": label.description,
        "description_html": label.description or "",
        "text_color": text_color(label.color),
        "color": label.color,
        "remove_on_close": False,
    }


def text_color(color: str) -> str:
    """GitLab's readable text colour on a label background (dark on light, light on dark)."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#333333" if (red * 299 + green * 587 + blue * 114) / 1000 > 128 else "#FFFFFF"


def issue_labels(sandbox: Sandbox, issue: Issue) -> list[Label]:
    """The issue's labels in GitLab's order (by title)."""
    labels = (sandbox.store.get("labels", label_id) for label_id in issue.label_ids)
    return sorted((label for label in labels if label), key=lambda label: label.name)


def _duplicate_url(sandbox: Sandbox, issue: Issue) -> str | None:
    """`_links.closed_as_duplicate_of`: the API URL of the issue `/duplicate` named."""
    if issue.duplicated_to_id is None:
        return None
    original = sandbox.store.require("issues", issue.duplicated_to_id)
    return f"{sandbox.base_url}/api/v4/projects/{original.project_id}/issues/{original.iid}"


def issue_json(sandbox: Sandbox, issue: Issue, *, label_details: bool = False) -> dict[str, Any]:
    store = sandbox.store
    project = store.require("projects", issue.project_id)
    assignees = [user_basic(sandbox, store.require("users", uid)) for uid in issue.assignee_ids]
    author = store.require("users", issue.author_id)
    closed_by = store.get("users", issue.closed_by_id) if issue.closed_by_id else None
    labels = issue_labels(sandbox, issue)
    awards = [
        a for a in store.all("awards") if a.awardable_type == "Issue" and a.awardable_id == issue.id
    ]
    notes = [n for n in store.all("notes") if n.issue_id == issue.id and not n.system]
    web_url = sandbox.web_url(f"{project.path_with_namespace}/-/issues/{issue.iid}")
    api = f"{sandbox.base_url}/api/v4/projects/{project.id}"
    return {
        "id": issue.id,
        "iid": issue.iid,
        "project_id": issue.project_id,
        "title": issue.title,
        "description": issue.description,
        "state": issue.state,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "closed_by": user_basic(sandbox, closed_by) if closed_by else None,
        "labels": [
            label_json(sandbox, label) if label_details else label.name for label in labels
        ],
        "milestone": None,
        "assignees": assignees,
        "author": user_basic(sandbox, author),
        "type": "ISSUE",
        "assignee": assignees[0] if assignees else None,
        "user_notes_count": len(notes),
        "merge_requests_count": 0,
        "upvotes": sum(1 for a in awards if a.name == "thumbsup"),
        "downvotes": sum(1 for a in awards if a.name == "thumbsdown"),
        "due_date": issue.due_date,
        "confidential": issue.confidential,
        "discussion_locked": None,
        "issue_type": "issue",
        "web_url": web_url,
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": None,
            "human_total_time_spent": None,
        },
        "task_completion_status": {"count": 0, "completed_count": 0},
        "weight": None,
        "blocking_issues_count": 0,
        "has_tasks": False,
        "_links": {
            "self": f"{api}/issues/{issue.iid}",
            "notes": f"{api}/issues/{issue.iid}/notes",
            "award_emoji": f"{api}/issues/{issue.iid}/award_emoji",
            "project": api,
            "closed_as_duplicate_of": _duplicate_url(sandbox, issue),
        },
        "references": {
            "short": f"#{issue.iid}",
            "relative": f"#{issue.iid}",
            "full": f"{project.path_with_namespace}#{issue.iid}",
        },
        "severity": "UNKNOWN",
        "moved_to_id": None,
        "service_desk_reply_to": None,
        "health_status": None,
        "imported": False,
        "imported_from": "none",
    }


def note_json(sandbox: Sandbox, note: Note) -> dict[str, Any]:
    store = sandbox.store
    issue = store.require("issues", note.issue_id)
    author = store.require("users", note.author_id)
    return {
        "id": note.id,
        "type": None if note.individual else "DiscussionNote",
        "body": note.body,
        "attachment": None,
        "author": user_basic(sandbox, author),
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "system": note.system,
        "noteable_id": note.issue_id,
        "noteable_type": "Issue",
        "project_id": note.project_id,
        "noteable_iid": issue.iid,
        "resolvable": False,
        "confidential": note.internal,
        "internal": note.internal,
        "imported": False,
        "imported_from": "none",
        "commands_changes": {},
    }


def label_event_json(sandbox: Sandbox, event: LabelEvent) -> dict[str, Any]:
    store = sandbox.store
    label = store.get("labels", event.label_id)
    return {
        "id": event.id,
        "user": user_basic(sandbox, store.require("users", event.user_id)),
        "created_at": event.created_at,
        "resource_type": "Issue",
        "resource_id": event.issue_id,
        "label": label_basic(label) if label else None,
        "action": event.action,
    }


def award_json(sandbox: Sandbox, award: Award) -> dict[str, Any]:
    return {
        "id": award.id,
        "name": award.name,
        "user": user_basic(sandbox, sandbox.store.require("users", award.user_id)),
        "created_at": award.created_at,
        "updated_at": award.created_at,
        "awardable_id": award.awardable_id,
        "awardable_type": award.awardable_type,
        "url": None,
    }


def todo_json(sandbox: Sandbox, todo: Todo) -> dict[str, Any]:
    store = sandbox.store
    project = store.require("projects", todo.project_id)
    issue = store.require("issues", todo.issue_id)
    target = issue_json(sandbox, issue)
    return {
        "id": todo.id,
        "project": {
            "id": project.id,
            "description": project.description,
            "name": project.name,
            "name_with_namespace": project_json(sandbox, project)["name_with_namespace"],
            "path": project.path,
            "path_with_namespace": project.path_with_namespace,
            "created_at": project.created_at,
        },
        "author": user_basic(sandbox, store.require("users", todo.author_id)),
        "action_name": todo.action_name,
        "target_type": "Issue",
        "target": target,
        "target_url": target["web_url"],
        "body": todo.body,
        "state": todo.state,
        "created_at": todo.created_at,
        "updated_at": todo.updated_at or todo.created_at,
    }
