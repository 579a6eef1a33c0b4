"""Every call the bot makes to GitLab, and the only module that imports python-gitlab.

Three promises hold for each call:
- Transient failures (5xx, 429, connection errors, timeouts) are retried by tenacity with
  exponential back-off and jitter; a 429 waits what its `Retry-After` says, capped, so a busy
  GitLab is never stormed and a huge `Retry-After` never hangs a worker.
- The `X-Gitlab-Event-UUID` of the event being handled (`handling_event(uuid)`) rides along, so
  GitLab treats the hooks the bot's own writes cause as recursive and does not fire them again.
- Failures surface as one exception, `GitLabError(status, message)`; python-gitlab's own
  exceptions never leave this module.

Results are GitLab's JSON, as dicts: `bot/snapshot.py` turns them into typed views.
"""

from __future__ import annotations

import contextvars
import email.utils
import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit

import gitlab
import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from bot import metrics
from bot.snapshot import Person

logger = logging.getLogger(__name__)

EVENT_HEADER = "X-Gitlab-Event-UUID"
PER_PAGE = 100
_event_uuid: contextvars.ContextVar[str | None] = contextvars.ContextVar("gitlab_event_uuid", default=None)


def read_time(text: str) -> datetime:
    """A timestamp as GitLab writes it (`2025-01-10T10:00:00.123Z`), or in ISO 8601 with an offset."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def gitlab_time(moment: datetime) -> str:
    """A time for GitLab's `*_after`/`*_before` filters (UTC, microseconds: the bound is exact)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class GitLabError(Exception):
    """A GitLab call that failed for good. `status` is the HTTP status, 0 when none arrived."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"GitLab answered {status}: {message}" if status else f"GitLab unreachable: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth another try: nothing arrived, GitLab was overloaded, or it asked us to wait."""
        return self.status == 0 or self.status == 429 or self.status >= 500


def unreachable_reason(error: Exception) -> str:
    """Why no answer came, in a few words (`Connection refused`, `Name or service not known`,
    `no answer within the timeout`), not urllib3's paragraph of pool and object names."""
    if isinstance(error, requests.Timeout):
        return "no answer within the timeout"
    errno_text = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    return errno_text.group(1).strip() if errno_text else type(error).__name__


@contextmanager
def handling_event(uuid: str | None) -> Iterator[None]:
    """Forward `uuid` as `X-Gitlab-Event-UUID` on every call made inside the block (this thread)."""
    token = _event_uuid.set(uuid)
    try:
        yield
    finally:
        _event_uuid.reset(token)


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def _error_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500] or response.reason or ""
    if isinstance(payload, dict):
        for key in ("message", "error"):
            if key in payload:
                return str(payload[key])
    return str(payload)[:500]


class _Transport(requests.Session):
    """A requests session that adds the event header and turns retryable answers into errors.

    Raising here, below python-gitlab, keeps the `Retry-After` header (python-gitlab's own
    errors drop headers) and keeps python-gitlab's unbounded rate-limit sleep out of the way.
    """

    calls = 0  # every request sent, answered or not: what a pacer spends (bot/reconcile.py)

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str, Any, Any, Any], dict[str, Any]] = {}

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        """What requests takes from the environment (the proxy variables, a CA bundle), read
        once per GitLab address: requests reads it again for every call, walking every
        environment variable twice for the proxies (a fifth of a GitLab read's CPU), and a
        running bot's environment does not change. A call with proxies of its own is merged
        as requests merges it."""
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        address = urlsplit(url)
        key = (address.scheme, address.netloc, stream, verify, cert)
        merged = self._environment.get(key)
        if merged is None:
            merged = self._environment[key] = super().merge_environment_settings(url, {}, stream, verify, cert)
        return {**merged, "proxies": dict(merged["proxies"])}

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls += 1
        uuid = _event_uuid.get()
        if uuid:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), EVENT_HEADER: uuid}
        endpoint = metrics.api_endpoint(urlsplit(url).path)
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException:
            metrics.GITLAB_CALLS.labels(endpoint=endpoint, status="error").inc()
            raise
        metrics.GITLAB_CALLS.labels(endpoint=endpoint, status=str(response.status_code)).inc()
        if response.status_code == 429 or response.status_code >= 500:
            raise GitLabError(
                response.status_code,
                _error_message(response),
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    path: str
    web_url: str
    default_branch: str | None = None  # None while the repository is empty


class GitLabAccess:
    """One GitLab project, as the bot's user sees it."""

    def __init__(
        self,
        url: str,
        token: str,
        project: str | int,
        *,
        timeout: float = 10,
        retries: int = 4,
        max_wait: float = 30,
    ) -> None:
        self.url = url.rstrip("/")
        self._project_ref = quote(str(project), safe="")
        self._transport = _Transport()
        self._gl = gitlab.Gitlab(self.url, private_token=token, timeout=timeout, session=self._transport)
        self._retries = retries
        self._max_wait = max_wait
        self._backoff = wait_random_exponential(multiplier=0.5, max=max_wait)

    @classmethod
    def from_settings(cls, settings: Any, **options: Any) -> "GitLabAccess":
        """Build from `bot.config.settings.Settings` (gitlab_url, gitlab_token, project); `options`
        are the keyword arguments of the constructor (timeout, retries, max_wait)."""
        missing = [name for name in ("gitlab_url", "gitlab_token", "project") if not getattr(settings, name)]
        if missing:
            raise GitLabError(0, f"settings lack {', '.join(missing)} (VORHOELLE_{missing[0].upper()})")
        return cls(settings.gitlab_url, settings.gitlab_token.get_secret_value(), settings.project, **options)

    @property
    def calls(self) -> int:
        """Requests this access has sent to GitLab so far, retries included."""
        return self._transport.calls

    # -- plumbing ---------------------------------------------------------------------------

    def _wait(self, state: Any) -> float:
        error = state.outcome.exception()
        if isinstance(error, GitLabError) and error.retry_after is not None:
            return min(error.retry_after, self._max_wait)
        return self._backoff(state)

    def _log_retry(self, state: Any) -> None:
        metrics.GITLAB_RETRIES.labels(reason=metrics.retry_reason(state.outcome.exception())).inc()
        logger.warning(
            "GitLab call failed (%s), retry %d of %d in %.1fs",
            state.outcome.exception(), state.attempt_number, self._retries, state.next_action.sleep,
        )

    def _request(self, verb: str, path: str, **kwargs: Any) -> requests.Response:
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, GitLabError) and e.transient),
            stop=stop_after_attempt(self._retries + 1),
            wait=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._request_once, verb, path, **kwargs)
        except GitLabError as error:
            if error.transient and self._retries:
                logger.warning("GitLab call %s %s failed on all %d tries (%s); giving up",
                               verb.upper(), path, self._retries + 1, error)
            raise

    def _request_once(self, verb: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._gl.http_request(
                verb, path, obey_rate_limit=False, retry_transient_errors=False, **kwargs
            )
        except gitlab.exceptions.GitlabError as error:
            raise GitLabError(error.response_code or 0, str(error.error_message)) from None
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            raise GitLabError(0, unreachable_reason(error)) from None

    def _json(self, verb: str, path: str, **kwargs: Any) -> Any:
        response = self._request(verb, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GitLabError(response.status_code, f"{verb.upper()} {path}: the answer is not JSON") from None

    def _pages(self, path: str, query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a paginated list, one page fetched (and retried) at a time."""
        page: str | None = "1"
        while page:
            response = self._request("get", path, query_data={**(query or {}), "page": page, "per_page": PER_PAGE})
            yield from response.json()
            page = response.headers.get("x-next-page") or None

    def _in_project(self, suffix: str = "") -> str:
        return f"/projects/{self._project_ref}{suffix}"

    def _issue(self, iid: int, suffix: str = "") -> str:
        return self._in_project(f"/issues/{int(iid)}{suffix}")

    # -- who and where ----------------------------------------------------------------------

    @cached_property
    def bot_user(self) -> Person:
        """The token's own user: its notes are the only ones whose markers count."""
        return Person.from_json(self._json("get", "/user"))

    @cached_property
    def project(self) -> ProjectInfo:
        data = self._json("get", self._in_project())
        return ProjectInfo(id=data["id"], path=data["path_with_namespace"], web_url=data["web_url"],
                           default_branch=data.get("default_branch"))

    def access_level(self, user_id: int) -> int:
        """The user's effective access level in the project; 0 for non-members and blocked users."""
        try:
            member = self._json("get", self._in_project(f"/members/all/{int(user_id)}"))
        except GitLabError as error:
            if error.status == 404:
                return 0
            raise
        if member.get("state", "active") != "active":
            return 0
        return int(member.get("access_level") or 0)

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        users = self._json("get", "/users", query_data={"username": username})
        return users[0] if users else None

    def user_by_public_email(self, email: str) -> dict[str, Any] | None:
        """The one user showing `email` as their public e-mail. GitLab's search matches it exactly
        (and names in part), so each hit's profile is read to keep only the real match."""
        wanted = email.strip().lower()
        hits = self._json("get", "/users", query_data={"search": wanted, "per_page": 20})
        profiles = [self._json("get", f"/users/{int(hit['id'])}") for hit in hits]
        found = [p for p in profiles if (p.get("public_email") or "").lower() == wanted]
        return found[0] if len(found) == 1 else None

    # -- issues -----------------------------------------------------------------------------

    def get_issue(self, iid: int) -> dict[str, Any]:
        return self._json("get", self._issue(iid))

    def iter_issues(
        self,
        *,
        labels: Iterable[str] = (),
        updated_after: str | None = None,
        created_before: str | None = None,
        state: str | None = None,
        order_by: str = "updated_at",
        sort: str = "asc",
    ) -> Iterator[dict[str, Any]]:
        """Issues of the project, lazily, page by page."""
        query: dict[str, Any] = {"order_by": order_by, "sort": sort}
        if labels:
            query["labels"] = ",".join(labels)
        if updated_after:
            query["updated_after"] = updated_after
        if created_before:
            query["created_before"] = created_before
        if state:
            query["state"] = state
        return self._pages(self._in_project("/issues"), query)

    def walk_issues(self, field: str, after: tuple[str, int] | None = None, *, labels: Iterable[str] = (),
                    not_labels: Iterable[str] = (), **query: str) -> Iterator[list[dict[str, Any]]]:
        """Issues matching `query` (GitLab's own names: `updated_before`, `state`...) in
        (`field`, id) order, after the row `after` (its `field` value and id), a page at a time.

        Each page is asked for with `<field>_after` moved to the last row seen (GitLab's bound
        includes it; rows seen are dropped) rather than by page number, so issues that leave or
        join the list while it is walked — a converge moves `updated_at` — shift nothing. Rows
        sharing one timestamp beyond a page are stepped through by page number under that bound."""
        bound, number = (after[0] if after else None), 1
        last = (read_time(after[0]), after[1]) if after else None
        data: dict[str, Any] = {**query, "order_by": field, "sort": "asc", "per_page": PER_PAGE}
        if labels:
            data["labels"] = ",".join(labels)
        if not_labels:
            data["not[labels]"] = ",".join(not_labels)
        while True:
            if bound:
                data[f"{field.removesuffix('_at')}_after"] = gitlab_time(read_time(bound))
            rows = self._json("get", self._in_project("/issues"), query_data={**data, "page": number}) or []
            fresh = [row for row in rows if last is None or (read_time(row[field]), int(row["id"])) > last]
            if fresh:
                yield fresh
                last = (read_time(fresh[-1][field]), int(fresh[-1]["id"]))
            if len(rows) < PER_PAGE:
                return
            if fresh and (bound is None or (last is not None and last[0] != read_time(bound))):
                bound, number = fresh[-1][field], 1
            else:
                number += 1

    def create_issue(
        self,
        title: str,
        description: str,
        labels: Iterable[str] = (),
        *,
        assignee_ids: Iterable[int] = (),
        confidential: bool = False,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"title": title, "description": description, "labels": ",".join(labels)}
        if assignee_ids:
            data["assignee_ids"] = list(assignee_ids)
        if confidential:
            data["confidential"] = True
        return self._json("post", self._in_project("/issues"), post_data=data)

    def update_labels(self, iid: int, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> dict[str, Any]:
        """Add and remove labels in ONE call, so a state label swap is atomic."""
        data = {"add_labels": ",".join(add), "remove_labels": ",".join(remove)}
        return self._json("put", self._issue(iid), post_data=data)

    def assign(self, iid: int, user_ids: Iterable[int]) -> dict[str, Any]:
        return self._json("put", self._issue(iid), post_data={"assignee_ids": list(user_ids)})

    def label_events(self, iid: int) -> list[dict[str, Any]]:
        return list(self._pages(self._issue(iid, "/resource_label_events")))

    def notes(self, iid: int) -> list[dict[str, Any]]:
        """All notes, oldest first."""
        return list(self._pages(self._issue(iid, "/notes"), {"sort": "asc", "order_by": "created_at"}))

    def awards(self, iid: int) -> list[dict[str, Any]]:
        return list(self._pages(self._issue(iid, "/award_emoji")))

    def note(self, iid: int, note_id: int) -> dict[str, Any]:
        return self._json("get", self._issue(iid, f"/notes/{int(note_id)}"))

    def create_note(self, iid: int, body: str, *, internal: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"body": body}
        if internal:
            data["internal"] = True
        return self._json("post", self._issue(iid, "/notes"), post_data=data)

    def get_note(self, iid: int, note_id: int) -> dict[str, Any]:
        return self._json("get", self._issue(iid, f"/notes/{int(note_id)}"))

    def edit_note(self, iid: int, note_id: int, body: str) -> dict[str, Any]:
        return self._json("put", self._issue(iid, f"/notes/{int(note_id)}"), post_data={"body": body})

    def delete_note(self, iid: int, note_id: int) -> None:
        """Delete one of the bot's own notes (a twin another replica wrote first); gone already is fine."""
        try:
            self._request("delete", self._issue(iid, f"/notes/{int(note_id)}"))
        except GitLabError as error:
            if error.status != 404:
                raise

    # -- labels, hooks, uploads -------------------------------------------------------------

    def labels(self) -> list[dict[str, Any]]:
        return list(self._pages(self._in_project("/labels")))

    def create_label(self, name: str, color: str, description: str = "") -> dict[str, Any]:
        data = {"name": name, "color": color, "description": description}
        return self._json("post", self._in_project("/labels"), post_data=data)

    def update_label(self, name: str, *, color: str, description: str = "") -> dict[str, Any]:
        path = self._in_project(f"/labels/{quote(name, safe='')}")
        return self._json("put", path, post_data={"color": color, "description": description})

    def hooks(self) -> list[dict[str, Any]]:
        return list(self._pages(self._in_project("/hooks")))

    def create_hook(self, **fields: Any) -> dict[str, Any]:
        return self._json("post", self._in_project("/hooks"), post_data=fields)

    def update_hook(self, hook_id: int, **fields: Any) -> dict[str, Any]:
        return self._json("put", self._in_project(f"/hooks/{int(hook_id)}"), post_data=fields)

    def delete_hook(self, hook_id: int) -> None:
        self._request("delete", self._in_project(f"/hooks/{int(hook_id)}"))

    def upload(self, filename: str, data: bytes) -> dict[str, Any]:
        """Upload a file; put the answer's `markdown` into a description or note."""
        return self._json("post", self._in_project("/uploads"), files={"file": (filename, data)})

    # -- staging (bot/staging/): find, edit and page through job matches ------------------------------

    def search_issues(self, text: str) -> list[dict[str, Any]]:
        """Issues in any state whose title or description contains `text` (GitLab's `search`)."""
        return list(self._pages(self._in_project("/issues"), {"search": text, "state": "all"}))

    def edit_issue(self, iid: int, **fields: Any) -> dict[str, Any]:
        """Change title, description, `add_labels`/`remove_labels`... in one call."""
        return self._json("put", self._issue(iid), post_data=fields)

    def issues_page(
        self, *, labels: Iterable[str] = (), page: int = 1, per_page: int = 20
    ) -> tuple[list[dict[str, Any]], dict[str, int | None]]:
        """One page of issues, newest first, with GitLab's totals (None when it omits them)."""
        query = {"labels": ",".join(labels), "order_by": "created_at", "sort": "desc",
                 "page": page, "per_page": per_page}
        response = self._request("get", self._in_project("/issues"), query_data=query)

        def header(name: str) -> int | None:
            value = response.headers.get(name)
            return int(value) if value and value.isdigit() else None

        totals = {"total": header("x-total"), "total_pages": header("x-total-pages"),
                  "next_page": header("x-next-page")}
        return response.json(), totals

    # -- readiness and hook health -----------------------------------------------------------

    def ping(self) -> None:
        """Fresh proof, without retries, that GitLab answers, the token is valid and the project
        is visible: readiness must answer quickly and must not trust cached identities."""
        self._request_once("get", "/user")
        self._request_once("get", self._in_project())

    def hook_events(self, hook_id: int, *, per_page: int = 20) -> list[dict[str, Any]]:
        """The hook's most recent deliveries, newest first (GitLab keeps them for 7 days)."""
        path = self._in_project(f"/hooks/{int(hook_id)}/events")
        return self._json("get", path, query_data={"per_page": per_page}) or []

    # -- the token and settings kept in the repository -----------------------------------------

    def token_info(self) -> dict[str, Any] | None:
        """The token's own record (`scopes`, `expires_at`); None where GitLab cannot tell (404)."""
        try:
            return self._json("get", "/personal_access_tokens/self")
        except GitLabError as error:
            if error.status == 404:
                return None
            raise

    def repository_file(self, path: str, ref: str) -> dict[str, Any] | None:
        """A file as GitLab's files API shows it (`content` in base64, `last_commit_id`); None if absent."""
        try:
            return self._json("get", self._in_project(f"/repository/files/{quote(path, safe='')}"),
                              query_data={"ref": ref})
        except GitLabError as error:
            if error.status == 404:
                return None
            raise

    def write_repository_file(
        self, path: str, text: str, *, branch: str, commit_message: str, last_commit_id: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Commit `text` as `path` on `branch`: an update when `last_commit_id` is given (GitLab
        refuses it if the file changed since), else a new file. `author` (name, e-mail) is the
        commit's author; the bot's user commits it either way."""
        data: dict[str, Any] = {"branch": branch, "content": text, "commit_message": commit_message,
                                "encoding": "text"}
        if author is not None:
            data["author_name"], data["author_email"] = author
        verb = "post"
        if last_commit_id:
            data["last_commit_id"] = last_commit_id
            verb = "put"
        return self._json(verb, self._in_project(f"/repository/files/{quote(path, safe='')}"), post_data=data)

    # -- `vorhoelle selftest` (bot/selftest.py): a scratch issue and labels, made and removed -----

    def version(self) -> dict[str, Any]:
        """`{"version": "17.11.1-ee", "revision": ...}`."""
        return self._json("get", "/version")

    def delete_issue(self, iid: int) -> None:
        """Needs the Owner role (or an administrator): GitLab answers 403 otherwise."""
        self._json("delete", self._issue(iid))

    def delete_label(self, name: str) -> None:
        self._json("delete", self._in_project(f"/labels/{quote(name, safe='')}"))

    def award(self, iid: int, name: str) -> dict[str, Any]:
        return self._json("post", self._issue(iid, "/award_emoji"), post_data={"name": name})

    def remove_award(self, iid: int, award_id: int) -> None:
        self._json("delete", self._issue(iid, f"/award_emoji/{int(award_id)}"))

    def test_hook(self, hook_id: int, trigger: str) -> dict[str, Any]:
        """GitLab's "Test" button: sends a `trigger` event (`issue_hooks`, ...) to the hook now;
        201 when the receiver answered 2xx, GitLabError 422 with the reason otherwise."""
        return self._json("post", self._in_project(f"/hooks/{int(hook_id)}/test/{quote(trigger, safe='')}"))

    def own_todos(self) -> list[dict[str, Any]]:
        """The token's own pending to-dos in the project."""
        return list(self._pages("/todos", {"project_id": self.project.id, "state": "pending"}))

    def mark_todo_done(self, todo_id: int) -> None:
        self._json("post", f"/todos/{int(todo_id)}/mark_as_done")
