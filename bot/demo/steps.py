"""The demo's story: a project, its people, staged matches and a reviewer's morning.

Each step acts as a person would (through GitLab's API, as their clicks would) and then waits
until GitLab shows the bot's answer: the history note whose marker names the person's action as
its source, the state label, and the console notification. `STEPS` is the order bot/demo/run.py runs.
"""

from __future__ import annotations

import importlib.resources
import secrets
import signal
import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import httpx

from bot.staging.labels import sync_labels
from bot.cli.serve import DEMO_BOT, DEMO_PROJECT
from bot.cli.tables import table
from bot.demo.run import Account, Outbox, Report, Services, Step, StepFailed, answers, poll
from bot.demo.slack import DemoSlack
from bot.gitlab_access import GitLabAccess, GitLabError
from bot.hook_admin import delivered, install_hook
from bot.markers import Marker, parse_markers, source_id
from bot.notify.owed import event_of
from bot.config.settings import Settings, load_settings
from bot.snapshot import IssueSnapshot, read_snapshot
from bot.workflow import HISTORY_KINDS

# (role, username, name, access level): a developer may review, a guest may only watch.
PEOPLE = (
    ("reviewer", "reviewer", "Robin Reviewer", 30),
    ("guest", "guest", "Gus Guest", 10),
    ("bot", DEMO_BOT, "Vorhölle Bot", 40),  # maintainer: it installs its own webhook
)
NOTE_KINDS = ("history", "delivery record")
REVIEWER_SLACK = "U0REVIEWR"  # the reviewer's Slack member id, mapped in review.slack_users


def note_kind(body: str) -> str:
    """What a note of the bot is for, by its markers: history (with the outcome of its
    notifications), or the record of a message with no history note of its own."""
    kinds = {marker.kind for marker in parse_markers(body)}
    return "history" if kinds & HISTORY_KINDS else "delivery record"


@dataclass(frozen=True)
class Staged:
    iid: int
    score: int
    title: str
    url: str


@dataclass
class Scene:
    """Everything the steps share: the processes, the people, the project and its matches."""

    services: Services
    workdir: Path
    outbox: Outbox
    root_token: str
    state_file: Path | None = None
    gitlab_url: str = ""
    bot_url: str = ""
    project: dict[str, Any] = field(default_factory=dict)
    admin: Account | None = None
    people: dict[str, Account] = field(default_factory=dict)  # by role: reviewer, guest, bot
    matches: list[Staged] = field(default_factory=list)
    known: dict[str, Any] = field(default_factory=dict)  # what the steps learn, by name
    missed: str = ""  # the source of the change made while the bot was down
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    slack: DemoSlack = field(default_factory=DemoSlack)
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    oauth: dict[str, Any] = field(default_factory=dict)  # the settings page's OAuth application

    # -- what an earlier step set up ------------------------------------------------------------

    def _known(self, name: str) -> Any:
        if name not in self.known:
            raise StepFailed(f"no {name} yet: the step that sets it up has not run")
        return self.known[name]

    @property
    def settings(self) -> Settings:
        return self._known("settings")

    @property
    def bot_view(self) -> GitLabAccess:
        """GitLab as the bot's token sees it."""
        return self._known("bot_view")

    @property
    def hook_id(self) -> int:
        return self._known("hook_id")

    # -- where things are ----------------------------------------------------------------------

    def issue_path(self, match: Staged, suffix: str = "") -> str:
        return f"/projects/{self.project['id']}/issues/{match.iid}{suffix}"

    def label(self, state: str) -> str:
        return self.settings.workflow.states[state].label

    def bot_env(self) -> dict[str, str]:
        """`vorhoelle serve`'s settings, through the environment as in production."""
        return {
            "VORHOELLE_GITLAB_URL": self.gitlab_url,
            "VORHOELLE_GITLAB_TOKEN": self.people["bot"].token,
            "VORHOELLE_PROJECT": self.project["path_with_namespace"],
            "VORHOELLE_WEBHOOK_SECRET": self.webhook_secret,
            "VORHOELLE_API_TOKEN": self.api_token,
            "VORHOELLE_STAGING__REVIEWER": self.people["reviewer"].username,
            "VORHOELLE_NOTIFY__CHANNELS__CONSOLE__OUTBOX": str(self.outbox.path),
            "VORHOELLE_LOGGING__FORMAT": "text",
            **self.slack.env(REVIEWER_SLACK, self.people["reviewer"].username),
            "VORHOELLE_SETTINGS_PAGE__OAUTH_CLIENT_ID": self.oauth.get("application_id", ""),
            "VORHOELLE_OAUTH_CLIENT_SECRET": self.oauth.get("secret", ""),
            "VORHOELLE_SESSION_SECRET": self.session_secret,
        }

    # -- what the bot wrote --------------------------------------------------------------------

    def snapshot(self, match: Staged) -> IssueSnapshot:
        try:
            return read_snapshot(self.bot_view, match.iid)
        except GitLabError as error:
            raise StepFailed(f"cannot read #{match.iid}: {error}") from None

    def state_of(self, snapshot: IssueSnapshot) -> str | None:
        states = [name for name, state in self.settings.workflow.states.items() if state.label in snapshot.labels]
        return states[0] if len(states) == 1 else None

    def record(self, match: Staged, sources: set[str], kind: str, state: str) -> Marker:
        """Wait for the bot's `kind` note about one of `sources`, with only `state`'s label on."""

        def recorded() -> Marker | None:
            snapshot = self.snapshot(match)
            marker = next((m for m in snapshot.bot_markers if m.kind == kind
                           and (m.source in sources or sources & set(m.data.get("covers", ())))), None)
            return marker if marker and self.state_of(snapshot) == state else None

        return poll(recorded, f"{kind} note by the bot on #{match.iid} with only {self.label(state)} on")

    def answered(self, match: Staged, sources: set[str], state: str) -> str:
        """Wait for the bot's transition note and, for a step the reviewer did not take
        themselves, its console notification; say what it recorded."""
        marker = self.record(match, sources, "transition", state)
        return f"the bot records {marker.data.get('from')} → {marker.data.get('to')} in a note{self.told(match, marker, state)}"

    def told(self, match: Staged, marker: Marker, event: str) -> str:
        """" and notifies" once the console told `event`; for the reviewer's own step, why not."""
        if marker.data.get("username") == self.people["reviewer"].username:
            return "; nobody is told: the reviewer did it (notify.own_actions)"
        poll(lambda: self.outbox.message_for(event, marker.source), f"console notification of the {event} on #{match.iid}")
        return " and notifies"

    # -- the end ---------------------------------------------------------------------------------

    def final_matches(self) -> list[dict[str, Any]]:
        """Each staged match as GitLab has it now: state, labels and the notes the bot wrote."""
        rows = []
        for match in self.matches:
            snapshot = self.snapshot(match)
            bot_notes = Counter(note_kind(n.body) for n in snapshot.notes
                                if n.author_id == snapshot.bot_user.id and not n.system)
            history = [{"kind": m.kind, "source": m.source, "state": m.data.get("state"), "event": event_of(m),
                        "channel": m.data.get("channel"), "actor": m.data.get("actor")}
                       for m in snapshot.bot_markers if m.kind in HISTORY_KINDS]
            rows.append({"iid": match.iid, "score": match.score, "title": match.title, "url": match.url,
                         "state": self.state_of(snapshot), "labels": list(snapshot.labels),
                         "history": history, "bot_notes": dict(bot_notes)})
        return rows

    def summary(self, report: Report) -> dict[str, Any]:
        """The --summary document: steps, people, and every match as GitLab has it now."""
        try:
            matches, unread = self.final_matches(), None
        except (StepFailed, httpx.HTTPError) as error:
            matches, unread = [], str(error)
        return {
            "ok": report.ok,
            "failed": report.failed,
            "steps": report.steps,
            "gitlab_url": self.gitlab_url,
            "project": self.project.get("path_with_namespace"),
            "bot_url": self.bot_url,
            "hook_id": self.hook_id,
            "people": {role: {"id": a.user.get("id"), "username": a.username} for role, a in self.people.items()},
            "matches": matches,
            "unread": unread,
            "notifications": [{"subject": e["subject"], "events": [[i["event"], i["source"]] for i in e["items"]]}
                              for e in self.outbox.entries()],
        }

    def how_to_explore(self) -> str:
        """What --keep prints: where everything is, the tokens, and how to stop it."""
        path = self.project.get("path_with_namespace", f"root/{DEMO_PROJECT}")
        tokens = "\n".join(f"    @{a.username:<14} {a.token}" for a in self.people.values())
        return f"""
Everything keeps running (--keep): process group {self.services.group}, logs and outbox in {self.workdir}
  GitLab (sandbox)  {self.gitlab_url}/api/v4   administrator token {self.root_token}
  tokens
{tokens}
  the bot           {self.bot_url}   API docs {self.bot_url}/docs   API token {self.api_token}
  in a browser      {self.gitlab_url}/api/v4/projects/{quote(path, safe="")}/issues?private_token={self.root_token}
  python-gitlab     gitlab.Gitlab("{self.gitlab_url}", private_token="<a token above>").projects.get("{path}")
  Slack             the demo's stand-in ended with the demo: the bot's Slack messages now fail (and are retried)
  settings page     {self.bot_url}/settings   "Sign in with GitLab", then on the sandbox's sign-in page:
                    root + {self.root_token} (may change) or @{self.people["reviewer"].username if self.people else "reviewer"} + its token above (may look)
Stop everything:    kill -TERM -{self.services.group}"""  # noqa: E501

    def close(self) -> None:
        for account in [self.admin, *self.people.values()]:
            if account is not None:
                account.close()
        self.slack.close()


# --- Setting up ------------------------------------------------------------------------------------


def start_sandbox(scene: Scene) -> str:
    args = ["sandbox", "--port", "0", "--root-token", scene.root_token]
    if scene.state_file is not None:
        args += ["--state", str(scene.state_file)]
    scene.gitlab_url = scene.services.start("sandbox", args, r"Sandbox GitLab at (\S+)")
    poll(lambda: answers(f"{scene.gitlab_url}/api/v4/version"), "answer from the sandbox's API")
    return f"`vorhoelle sandbox` answers at {scene.gitlab_url}/api/v4"


def create_project_and_people(scene: Scene) -> str:
    scene.admin = admin = Account(scene.gitlab_url, scene.root_token)
    scene.project = admin.call("POST", "/projects", name="Job matches", path=DEMO_PROJECT, visibility="private")
    for role, username, name, level in PEOPLE:
        user = admin.call("POST", "/users", username=username, name=name, email=f"{username}@example.com",
                          password=secrets.token_urlsafe(16), skip_confirmation=True)
        token = admin.call("POST", f"/users/{user['id']}/personal_access_tokens", name="vorhoelle-demo", scopes=["api"])
        admin.call("POST", f"/projects/{scene.project['id']}/members", user_id=user["id"], access_level=level)
        scene.people[role] = Account(scene.gitlab_url, token["token"], user)
    scene.known["settings"] = load_settings(gitlab_url=scene.gitlab_url, gitlab_token=scene.people["bot"].token,
                                   project=scene.project["path_with_namespace"])
    scene.known["bot_view"] = GitLabAccess.from_settings(scene.settings)
    return (f"project {scene.project['path_with_namespace']} with @reviewer (developer), @guest (guest) and "
            f"@{DEMO_BOT} (maintainer), a token each from the admin API")


def create_labels(scene: Scene) -> str:
    done = sync_labels(scene.bot_view, scene.settings)
    created = [name for name, status in done if status == "created"]
    if len(created) != len(done):
        raise StepFailed(f"expected only new labels in a new project, got {done}")
    return f"{len(created)} labels created, as `vorhoelle labels sync` does: {', '.join(created)}"


def register_settings_page(scene: Scene) -> int:
    """The settings page's OAuth application, registered as a GitLab administrator would; its
    callback names the bot's address, so the bot's port is chosen here. Returns the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    admin = scene.admin
    if admin is None:
        raise StepFailed("no admin account yet: the step that makes it has not run")
    scene.oauth = admin.call("POST", "/applications", name="Vorhölle settings page", scopes="read_user",
                                   redirect_uri=f"http://127.0.0.1:{port}/settings/callback")
    return port


def start_bot(scene: Scene, port: int = 0) -> str:
    if not scene.oauth:
        port = port or register_settings_page(scene)
    scene.bot_url = scene.services.start("bot", ["serve", "--port", str(port)], r"listening on (http://\S+)",
                                         env=scene.bot_env())
    poll(lambda: answers(f"{scene.bot_url}/health/ready"), "ready answer from the bot's /health/ready")
    return f"`vorhoelle serve` is ready at {scene.bot_url} (health: /health/ready, settings page: /settings)"


def install_webhook(scene: Scene) -> str:
    hook, _ = install_hook(scene.bot_view, f"{scene.bot_url}/webhook", scene.webhook_secret)
    scene.known["hook_id"] = hook["id"]
    return f"project webhook {hook['id']} → {hook['url']}, as `vorhoelle hook install` does"


def stage_samples(scene: Scene) -> str:
    sample = importlib.resources.files("bot").joinpath("samples/matches.json").read_text(encoding="utf-8")
    response = httpx.post(f"{scene.bot_url}/api/v1/matches", content=sample, timeout=60,
                          headers={"Authorization": f"Bearer {scene.api_token}", "Content-Type": "application/json"})
    if response.status_code != 201:
        raise StepFailed(f"POST /api/v1/matches answered {response.status_code}: {response.text[:300]}")
    results = response.json()["results"]
    created = [r for r in results if r["outcome"] == "created"]
    if len(created) < 5:
        raise StepFailed(f"the sample should stage at least 5 matches, staged {len(created)}")
    scene.matches = [Staged(r["iid"], r["score"], r["title"], r["url"]) for r in created]
    for result in created:
        poll(lambda: scene.outbox.message_for("staged", source_id("match", result["key"])),  # noqa: B023
             f"console notification of the staged #{result['iid']}")
    skipped = len(results) - len(created)
    issues = f"#{scene.matches[0].iid}–#{scene.matches[-1].iid}"
    return (f"the match engine POSTs {len(results)} sample matches to /api/v1/matches → {len(created)} issues "
            f"({issues}), {skipped} below the threshold skipped; one summary notification")


# --- The reviewer's morning --------------------------------------------------------------------------


def comment(scene: Scene, role: str, match: Staged, body: str) -> str:
    """A person's comment; returns its source id, as the bot's marker will name it."""
    note = scene.people[role].call("POST", scene.issue_path(match, "/notes"), body=body)
    return source_id("note", note["id"])


def approve_by_label(scene: Scene) -> str:
    match, reviewer = scene.matches[0], scene.people["reviewer"]
    pending, approved = scene.label("pending"), scene.label("approved")
    reviewer.call("PUT", scene.issue_path(match), add_labels=approved, remove_labels=pending)
    edits = {source_id("label_event", e.id) for e in scene.snapshot(match).label_events
             if e.user_id == reviewer.user["id"]}
    return f"@reviewer swaps {pending} for {approved} on #{match.iid} → {scene.answered(match, edits, 'approved')}  {match.url}"


def reviewer_comments(index: int, text: str, state: str) -> Callable[[Scene], str]:
    """The step where the reviewer comments `text` on the index-th match and the bot moves it to `state`."""

    def step(scene: Scene) -> str:
        match = scene.matches[index]
        source = comment(scene, "reviewer", match, text)
        return f'@reviewer comments "{text}" on #{match.iid} → {scene.answered(match, {source}, state)}  {match.url}'

    return step


def after_sending(index: int, text: str, state: str, event: str) -> Callable[[Scene], str]:
    """The step where the reviewer records what happened after sending (a reply, an interview
    round, an offer) with `text`; the bot records it, the match is in `state`; `event` is told
    to nobody, since the reviewer did it."""

    def step(scene: Scene) -> str:
        match = scene.matches[index]
        source = comment(scene, "reviewer", match, text)
        marker = scene.record(match, {source}, "transition", state)
        moved = f"{marker.data.get('from')} → {state}" if marker.data.get("from") != state else f"still {state}"
        due = f", due date {scene.snapshot(match).due_date}" if marker.data.get("happened") == "round" else ""
        return (f'@reviewer comments "{text}" on #{match.iid} → the bot records the {marker.data.get("happened")} '
                f"({moved}{due}) in a note{scene.told(match, marker, event)}  {match.url}")

    return step


def approve_from_slack(scene: Scene) -> str:
    match = scene.matches[2]
    poll(lambda: scene.slack.buttons(match.iid), f"the Slack message with buttons for #{match.iid}")
    answer, action_ts = scene.slack.press(scene.bot_url, match.iid, "approve", REVIEWER_SLACK)
    if answer.status_code != 200:
        raise StepFailed(f"POST /slack/actions answered {answer.status_code}: {answer.text[:300]}")
    recorded = scene.answered(match, {source_id("slack", action_ts)}, "approved")
    shown = poll(lambda: scene.slack.outcome(match.iid), f"the Slack message updated for #{match.iid}")
    return (f"@reviewer presses Approve in Slack on #{match.iid} → signature checked, answered at once; "
            f'{recorded}; the Slack message now reads "{shown}"  {match.url}')


def guest_is_refused(scene: Scene) -> str:
    match = scene.matches[3]
    source = comment(scene, "guest", match, "/reject")
    marker = scene.record(match, {source}, "refusal", "pending")
    poll(lambda: scene.outbox.message_for("refused", marker.source), f"console notification of the refusal on #{match.iid}")
    return (f'@guest comments "/reject" on #{match.iid} → the bot refuses ({", ".join(marker.data.get("refused", []))}), '
            f"tells @guest why in a note and the reviewer on the console; still pending  {match.url}")


def approve_by_emoji(scene: Scene) -> str:
    match = scene.matches[3]
    award = scene.people["reviewer"].call("POST", scene.issue_path(match, "/award_emoji"), name="thumbsup")
    source = source_id("award", award["id"])
    return f"@reviewer reacts 👍 on #{match.iid} → {scene.answered(match, {source}, 'approved')}  {match.url}"


def stop_bot(scene: Scene) -> str:
    status = scene.services.stop("bot")
    if status not in (0, -signal.SIGTERM):  # uvicorn ends a graceful stop by re-raising the signal
        raise StepFailed(f"`vorhoelle serve` did not stop gracefully (status {status})")
    poll(lambda: not answers(f"{scene.bot_url}/health/live"), "silence from the stopped bot")
    return f"SIGTERM to `vorhoelle serve` → it finishes its converges and exits; nothing answers at {scene.bot_url}"


def change_while_down(scene: Scene) -> str:
    match = scene.matches[4]
    scene.missed = source = comment(scene, "reviewer", match, "/reject rate too low")
    note_id = int(source.split(":")[1])

    def failed_delivery() -> dict[str, Any] | None:
        return next((event for event in scene.bot_view.hook_events(scene.hook_id)
                     if (event.get("request_data") or {}).get("object_attributes", {}).get("id") == note_id
                     and not delivered(event)), None)

    failure = poll(failed_delivery, f"failed webhook delivery of the comment on #{match.iid}")
    if source in {m.source for m in scene.snapshot(match).bot_markers}:
        raise StepFailed(f"#{match.iid} was recorded although the bot is down")
    return (f'@reviewer comments "/reject rate too low" on #{match.iid} → GitLab\'s delivery fails '
            f"({failure.get('response_status')}) and is not retried; nothing recorded yet  {match.url}")


def restart_bot(scene: Scene) -> str:
    match = scene.matches[4]
    started = start_bot(scene, port=urlsplit(scene.bot_url).port or 0)  # where the webhook points
    return f"{started}; its catch-up finds the comment → {scene.answered(match, {scene.missed}, 'rejected')}  {match.url}"


STEPS = [
    Step("sandbox GitLab", start_sandbox),
    Step("project and people", create_project_and_people),
    Step("labels", create_labels),
    Step("bot", start_bot),
    Step("webhook", install_webhook),
    Step("stage matches", stage_samples),
    Step("approve by label", approve_by_label),
    Step("reject by comment", reviewer_comments(1, "/reject too far away", "rejected")),
    Step("approve from Slack", approve_from_slack),
    Step("guest is refused", guest_is_refused),
    Step("approve by emoji", approve_by_emoji),
    Step("send", reviewer_comments(0, "/send", "sent")),
    Step("a reply", after_sending(0, "/reply They would like to talk on Thursday", "sent", "reply")),
    Step("an interview", after_sending(0, "/interview tomorrow 10:00 with the hiring manager; video call",
                                       "interview", "interview")),
    Step("an offer", after_sending(0, "/offer 95 €/h, start in January, 6 months", "offer", "offer")),
    Step("stop the bot", stop_bot),
    Step("change while the bot is down", change_while_down),
    Step("restart and catch up", restart_bot),
]


def summarise(scene: Scene) -> str:
    """Matches by state, then the notes the bot wrote on each."""
    matches = scene.final_matches()
    by_state = [(state, len(group), ", ".join(f"#{m['iid']}" for m in group))
                for state in scene.settings.workflow.states
                for group in [[m for m in matches if m["state"] == state]]]
    notes = [(f"#{m['iid']}", m["state"], ", ".join(f"{m['bot_notes'][k]} {k}" for k in NOTE_KINDS if k in m["bot_notes"]),
              "; ".join(_told(h) for h in m["history"]), m["title"])
             for m in matches]
    return "\n\n".join([
        "Matches by state\n" + table(["STATE", "MATCHES", "ISSUES"], by_state),
        "Notes the bot wrote\n" + table(["ISSUE", "STATE", "NOTES", "HISTORY", "TITLE"], notes, max_width=90),
        f"Console notifications: {len(scene.outbox.entries())}, each printed above "
        "(what Slack, e-mail or WhatsApp would have received)",
    ])


def _told(history: dict[str, Any]) -> str:
    what = f"→ {history['state']}" if history["kind"] == "transition" else history["kind"]
    return f"{what} ({history['channel']}, {history['actor']})"
