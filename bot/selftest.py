"""`vorhoelle selftest`: does this GitLab behave as the bot assumes? Checked on a scratch issue.

The bot is built on a handful of GitLab behaviours (docs/ARCHITECTURE.md; the shared GitLab notes):
labels and their events as its memory, description edits recorded by their editor (what `send`
trusts), quick actions vanishing from comments, `/reject` reaching it
verbatim, internal notes, award emoji, to-dos, the project hook, the repository files API. Each
differs between GitLab versions and tiers in small ways; this proves them on the user's own GitLab,
once, in a scratch issue with two scratch labels that are removed again afterwards.

Each check ends in one `Check`: ok, warning (differs; the bot copes, and how), error (the bot
needs it), or skipped (cannot be checked here, and why). The webhook check triggers GitLab's
"Test" delivery to the hook at the bot's public URL and asks the running bot
(`GET /api/v1/selftest/deliveries`) what arrived.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

from bot.config.check import _check_role, _check_scopes
from bot.gitlab_access import GitLabAccess, GitLabError
from bot.hook_admin import HookStatus
from bot.config.project_file import PROJECT_FILE
from bot.config.settings import Settings
from bot.snapshot import DESCRIPTION_EDITED

log = logging.getLogger(__name__)

Level = Literal["ok", "warning", "error", "skipped"]
SYMBOLS: dict[Level, str] = {"ok": "✓", "warning": "!", "error": "✗", "skipped": "-"}
SCRATCH_COLOR = "#6699CC"
HOOK_TRIGGER = "issue_hooks"
EMOJI_HOOKS_GA = (17, 5)
RECEIPT_WAIT = 10.0     # seconds to wait for the bot to have noted GitLab's test delivery


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    text: str

    def __str__(self) -> str:
        return f"{SYMBOLS[self.level]} {self.name}: {self.text}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Scratch:
    """What the selftest made in the project, so that it can remove exactly that."""

    nonce: str
    iid: int | None = None
    labels: list[str] = field(default_factory=list)

    def label(self, which: str) -> str:
        return f"vorhoelle-selftest-{self.nonce}-{which}"

    @property
    def issue(self) -> int:
        """The scratch issue's iid: the checks that use it run after the one that creates it."""
        if self.iid is None:
            raise RuntimeError("no scratch issue: the check that creates it did not succeed")
        return self.iid


@dataclass
class Run:
    settings: Settings
    gitlab: GitLabAccess
    scratch: Scratch
    reviewer: GitLabAccess | None = None
    bot_api: httpx.Client | None = None
    found: list[Check] = field(default_factory=list)

    def add(self, name: str, level: Level, text: str) -> None:
        check = Check(name, level, text)
        log.info("selftest %s", check)
        self.found.append(check)


def run_selftest(settings: Settings, gitlab: GitLabAccess, *, reviewer: GitLabAccess | None = None,
                 bot_api: httpx.Client | None = None) -> list[Check]:
    """Every check, in order; the scratch issue and labels are removed whatever happens."""
    run = Run(settings, gitlab, Scratch(secrets.token_hex(3)), reviewer, bot_api)
    if not _access(run):
        return run.found
    try:
        for name, check in CHECKS.items():
            try:
                check(run)
            except GitLabError as failure:
                run.add(name, "error", f"GitLab answered {failure.status or 'nothing'}: {failure.message}")
            if name in FOUNDATION and run.found[-1].level == "error":
                break   # nothing more can be checked without the scratch labels and issue
    finally:
        _clean_up(run)
    return run.found


# --- who, where, how much ------------------------------------------------------------------

def _access(run: Run) -> bool:
    """GitLab's version, the token and the bot's role; False when nothing more can be checked."""
    gitlab = run.gitlab
    try:
        user = gitlab.bot_user
        project = gitlab.project
    except GitLabError as failure:
        run.add("gitlab", "error", f"GitLab at {gitlab.url} answered {failure.status or 'nothing'}: "
                f"{failure.message}; `vorhoelle config check` says what to fix")
        return False
    version = (gitlab.version() or {}).get("version", "unknown")
    run.add("gitlab", "ok", f"GitLab {version} at {gitlab.url}; the bot is @{user.username} in {project.path}")
    if _release(version) < EMOJI_HOOKS_GA:
        run.add("gitlab", "warning", f"GitLab {version} sends Emoji Hooks only behind a feature flag (generally "
                "available from 17.5): award emoji then reach the bot through catch-up, not at once")
    scopes = _check_scopes(gitlab.token_info())
    run.add("token", scopes.level, scopes.text)
    for role in _check_role(gitlab.access_level(user.id), user.username):
        run.add("role", role.level, role.text)
    return not any(c.level == "error" for c in run.found)


# --- the checks, in order ------------------------------------------------------------------

def _release(version: str) -> tuple[int, int]:
    """`17.11.1-ee` -> (17, 11); an unreadable version counts as new (no warning on a guess)."""
    try:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (999, 0)


def check_labels(run: Run) -> None:
    gitlab, scratch = run.gitlab, run.scratch
    for which in ("a", "b"):
        gitlab.create_label(scratch.label(which), SCRATCH_COLOR, "vorhoelle selftest (removed afterwards)")
        scratch.labels.append(scratch.label(which))
    updated = gitlab.update_label(scratch.label("b"), color="#CC6699", description="updated")
    if (updated.get("color") or "").upper() != "#CC6699" or updated.get("description") != "updated":
        run.add("labels", "error", f"a label update did not take: GitLab answered {updated}")
        return
    run.add("labels", "ok", "labels are created and updated (colour, description)")


def check_issue_with_labels(run: Run) -> None:
    issue = run.gitlab.create_issue(
        f"vorhoelle selftest {run.scratch.nonce} (removed afterwards)",
        "A scratch issue of `vorhoelle selftest`.", [run.scratch.label("a")])
    run.scratch.iid = issue["iid"]
    if issue.get("labels") != [run.scratch.label("a")]:
        run.add("issue", "error", f"an issue created with a label has labels {issue.get('labels')}")
        return
    run.add("issue", "ok", f"an issue is created with its label (#{issue['iid']}, scratch)")


def check_description_edits(run: Run) -> None:
    """`send` learns who last edited a description from GitLab's system note (bot/send_check.py)."""
    gitlab, iid = run.gitlab, run.scratch.issue
    gitlab.edit_issue(iid, description="A scratch issue of `vorhoelle selftest`, edited.")
    bot = gitlab.bot_user.id
    if not any(n.get("system") and n.get("body") == DESCRIPTION_EDITED and (n.get("author") or {}).get("id") == bot
               for n in gitlab.notes(iid)):
        email = run.settings.notify.channels.email
        run.add("description_edits", "error" if email.enabled and email.send_application.enabled else "warning",
                f'no system note "{DESCRIPTION_EDITED}" by the editor: `send` cannot tell that someone '
                "below its right changed a recipient or draft, and would mail it without asking")
        return
    run.add("description_edits", "ok", "a description edit is recorded as a system note by its editor")


def check_label_events(run: Run) -> None:
    gitlab, scratch = run.gitlab, run.scratch
    gitlab.update_labels(scratch.issue, add=[scratch.label("b")], remove=[scratch.label("a")])
    events = gitlab.label_events(scratch.issue)
    seen = {(e.get("action"), (e.get("label") or {}).get("name"), (e.get("user") or {}).get("id")) for e in events}
    bot = gitlab.bot_user.id
    wanted = {("add", scratch.label("b"), bot), ("remove", scratch.label("a"), bot)}
    if not wanted <= seen:
        run.add("label_events", "error", f"label events do not record each change with its user: "
                f"missing {sorted(map(str, wanted - seen))}; the bot reads who moved a label from them")
        return
    run.add("label_events", "ok", "each label added or removed is recorded with the user who did it")


def check_approve_never_saved(run: Run) -> None:
    gitlab, iid = run.gitlab, run.scratch.issue
    try:
        gitlab.create_note(iid, "/approve")
    except GitLabError as failure:
        if failure.status != 400:
            raise
    if any(n.get("body", "").strip() == "/approve" for n in gitlab.notes(iid)):
        run.add("approve", "warning", "a comment of only /approve was saved here (GitLab keeps it on issues "
                "in this version); the bot does not read /approve either way")
        return
    run.add("approve", "ok", "a comment of only /approve is never saved (a merge-request command on an issue)")


def check_reject_verbatim(run: Run) -> None:
    text = "/reject selftest: the salary is too low"
    note = run.gitlab.create_note(run.scratch.issue, text)
    if note.get("body") != text:
        run.add("reject", "error", f"/reject came back as {note.get('body')!r}: the bot's /reject command "
                "cannot work on this GitLab")
        return
    run.add("reject", "ok", "/reject and its reason reach the bot verbatim")


def check_quick_actions_stripped(run: Run) -> None:
    gitlab, scratch = run.gitlab, run.scratch
    note = gitlab.create_note(scratch.issue, f"selftest: a comment with a command\n/label ~{scratch.label('a')}")
    labels = gitlab.get_issue(scratch.issue).get("labels") or []
    if "/label" in (note.get("body") or ""):
        run.add("quick_actions", "warning", "a quick action stayed in the saved comment: GitLab did not "
                "run it; the bot escapes untrusted text either way")
    elif scratch.label("a") not in labels:
        run.add("quick_actions", "warning", "the /label line was removed but not applied")
    else:
        run.add("quick_actions", "ok", "quick actions run and are removed from the saved comment")


def check_internal_notes(run: Run) -> None:
    note = run.gitlab.create_note(run.scratch.issue, "selftest: an internal note", internal=True)
    if note.get("internal") is not True and note.get("confidential") is not True:
        run.add("internal_notes", "error", "an internal note came back public: the bot's own notes would be "
                "visible to everyone who can see the issue")
        return
    run.add("internal_notes", "ok", "internal notes stay internal")


def check_award_emoji(run: Run) -> None:
    gitlab, iid = run.gitlab, run.scratch.issue
    emoji = run.settings.workflow.emoji
    award = gitlab.award(iid, emoji.approve)
    listed = [a for a in gitlab.awards(iid) if a.get("id") == award.get("id")]
    gitlab.remove_award(iid, award["id"])
    if not listed or (listed[0].get("user") or {}).get("id") != gitlab.bot_user.id:
        run.add("award_emoji", "error" if emoji.enabled else "warning",
                f"an award of :{emoji.approve}: is not listed with its user")
        return
    run.add("award_emoji", "ok", f"award emoji (:{emoji.approve}:) are listed with who gave them")


def check_todos(run: Run) -> None:
    needed: Level = "error" if run.settings.notify.channels.gitlab_todo.enabled else "warning"
    if run.reviewer is None:
        run.add("todos", "skipped", "give --reviewer-token (a second person's token, scope api) to check "
                "that assignment and @mentions give that person a to-do")
        return
    gitlab, scratch, reviewer = run.gitlab, run.scratch, run.reviewer
    person = reviewer.bot_user
    gitlab.assign(scratch.issue, [person.id])
    gitlab.create_note(scratch.issue, f"selftest: a mention of @{person.username}")
    mine = [t for t in reviewer.own_todos() if (t.get("target") or {}).get("iid") == scratch.issue]
    actions = {t.get("action_name") for t in mine}
    for todo in mine:
        reviewer.mark_todo_done(todo["id"])
    missing = [what for what, names in (("assignment", {"assigned"}),
                                        ("mention", {"mentioned", "directly_addressed"}))
               if not actions & names]
    if missing:
        run.add("todos", needed, f"@{person.username} got no to-do on {' and '.join(missing)}: the "
                "gitlab_todo channel would not reach reviewers")
        return
    run.add("todos", "ok", f"@{person.username} got a to-do on assignment and on mention (marked done)")


def check_webhook(run: Run) -> None:
    public_url = run.settings.public_url
    if not public_url:
        run.add("webhook", "skipped", "no public_url: set VORHOELLE_PUBLIC_URL to check the hook delivers to the bot")
        return
    url = f"{public_url.rstrip('/')}/webhook"
    try:
        hook = next((h for h in run.gitlab.hooks() if h.get("url") == url), None)
    except GitLabError as failure:
        if failure.status != 403:
            raise
        run.add("webhook", "skipped", "listing project hooks needs the maintainer role")
        return
    if hook is None:
        run.add("webhook", "error", f"no project hook sends to {url}: run `vorhoelle hook install`; until "
                "then only catch-up sees changes")
        return
    missing = HookStatus(hook).missing_events
    if missing:
        run.add("webhook", "warning", f"the hook for {url} does not send {', '.join(missing)}: run "
                "`vorhoelle hook install` again; until then catch-up covers those events")
    triggered = time.time()
    try:
        run.gitlab.test_hook(hook["id"], HOOK_TRIGGER)
    except GitLabError as failure:
        if failure.status == 404:
            run.add("webhook", "skipped", "this GitLab has no test-hook API (POST …/hooks/:id/test/:trigger, "
                    "GitLab 17.1 and later): use the hook's Test button and `vorhoelle hook status`")
            return
        run.add("webhook", "error", f"GitLab's test delivery to {url} failed: {failure.message}")
        return
    _check_receipt(run, hook, triggered)


def _check_receipt(run: Run, hook: dict[str, Any], triggered: float) -> None:
    """GitLab says the bot answered 2xx; ask the bot what it saw of that delivery."""
    if run.bot_api is None:
        run.add("webhook", "ok", "GitLab's test delivery reached the bot and was accepted (the token matched); "
                "set api_token to also check its headers")
        return
    uuid = _webhook_uuid(run, hook["id"])
    try:
        receipt = _wait_for_receipt(run.bot_api, uuid, triggered)
    except httpx.HTTPError as failure:
        answer = failure.response.status_code if isinstance(failure, httpx.HTTPStatusError) else failure
        run.add("webhook", "warning", f"GitLab's test delivery was accepted (the token matched), but asking "
                f"the bot at {run.settings.public_url} what it received failed ({answer}): is api_token the bot's?")
        return
    if receipt is None:
        run.add("webhook", "error", f"GitLab delivered, but the bot at {run.settings.public_url} did not see "
                "it: is public_url this bot, or is another receiver answering there?")
        return
    if receipt["token"] != "matched":
        run.add("webhook", "error", f"the bot received the test delivery but X-Gitlab-Token was {receipt['token']}")
    elif not receipt.get("idempotency_key"):
        run.add("webhook", "warning", "the delivery has no Idempotency-Key (GitLab before 17.4): the bot "
                "cannot drop a resent delivery early; converging twice changes nothing, so it copes")
    else:
        run.add("webhook", "ok", f"GitLab's test {receipt['event']} reached the bot: token matched, "
                f"Idempotency-Key present, answered {receipt['status']} {receipt['answer']}")


def _webhook_uuid(run: Run, hook_id: int) -> str | None:
    """The test delivery's X-Gitlab-Webhook-UUID from the hook's event log, where GitLab has one."""
    try:
        events = run.gitlab.hook_events(hook_id, per_page=5)
    except GitLabError:
        return None
    tests = [e for e in events if e.get("trigger") == HOOK_TRIGGER]
    headers = tests[0].get("request_headers") if tests else None
    return headers.get("X-Gitlab-Webhook-UUID") if isinstance(headers, dict) else None


def _wait_for_receipt(api: httpx.Client, uuid: str | None, triggered: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + RECEIPT_WAIT
    while True:
        response = api.get("/api/v1/selftest/deliveries", params={"webhook_uuid": uuid} if uuid else {})
        response.raise_for_status()
        seen = [r for r in response.json()["deliveries"] if r.get("event") == "Issue Hook"
                and (uuid or _epoch(r["at"]) >= int(triggered))]
        if seen or time.monotonic() > deadline:
            return seen[0] if seen else None
        time.sleep(0.2)


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def check_repository_files(run: Run) -> None:
    branch = run.gitlab.project.default_branch
    if branch is None:
        run.add("repository_files", "warning", f"the repository is empty: a {PROJECT_FILE} can be used once "
                "it has a first commit")
        return
    found = run.gitlab.repository_file(PROJECT_FILE, branch)
    state = "present" if found else "absent (optional)"
    run.add("repository_files", "ok", f"the repository files API answers: {PROJECT_FILE} on {branch} is {state}")


# Each check's name (its lines start with it) and function, in the order they run.
CHECKS: dict[str, Callable[[Run], None]] = {
    "labels": check_labels, "issue": check_issue_with_labels, "description_edits": check_description_edits,
    "label_events": check_label_events,
    "approve": check_approve_never_saved, "reject": check_reject_verbatim,
    "quick_actions": check_quick_actions_stripped, "internal_notes": check_internal_notes,
    "award_emoji": check_award_emoji, "todos": check_todos, "webhook": check_webhook,
    "repository_files": check_repository_files,
}
FOUNDATION = ("labels", "issue")   # without these, nothing after them can be checked


# --- afterwards ----------------------------------------------------------------------------

def _clean_up(run: Run) -> None:
    """Delete the scratch issue (or close it, where deleting needs the Owner role) and labels."""
    gitlab, scratch = run.gitlab, run.scratch
    left: list[str] = []
    if scratch.iid is not None:
        with _attempt(left, f"issue #{scratch.iid}"):
            try:
                gitlab.delete_issue(scratch.iid)
            except GitLabError as failure:
                if failure.status != 403:
                    raise
                gitlab.edit_issue(scratch.iid, state_event="close")
                left.append(f"issue #{scratch.iid} closed, not deleted (deleting needs the Owner role)")
    for name in scratch.labels:
        with _attempt(left, f"label {name}"):
            gitlab.delete_label(name)
    run.add("clean_up", "warning" if left else "ok",
            "; ".join(left) if left else "the scratch issue and labels are removed")


@contextmanager
def _attempt(left: list[str], what: str) -> Iterator[None]:
    try:
        yield
    except GitLabError as failure:
        left.append(f"{what} left behind ({failure.status}: {failure.message})")
