"""Settings as an attacker with push access or the API token would write them (issue 13, holes
2-4): over HTTP to the running bot and through GitLab's repository API, as the bot meets them."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest

from bot.markers import parse_markers
from bot.sandbox.control import SandboxControl
from tests.config.project import API_TOKEN, put_config, reloads
from tests.support.botserver import settle
from tests.support.waiting import wait_until

HOSTILE_EMOJI = "thumbsup:\n/close\n/label ~x\n:"
# "Billion laughs" as the issue found it: 342 bytes, 9^9 strings when expanded.
LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def bot_notes(world, iid, kind):
    bot_id = world.users["bot"]["id"]
    notes = world.project("reviewer").issues.get(iid).notes.list(get_all=True)
    return [n for n in notes if n.author["id"] == bot_id and any(m.kind == kind for m in parse_markers(n.body))]


def test_a_hostile_emoji_name_is_refused_and_the_help_reply_runs_no_quick_action(sandbox, world, bot):
    answer = put_config(bot, {"settings": {"workflow": {"emoji": {"approve": HOSTILE_EMOJI}}}, "author": "Mallory"})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem.startswith(".vorhoelle.yml:3: workflow.emoji.approve:") and "is not an emoji name" in problem
    assert world.project("maintainer").commits.list(get_all=True) == []
    assert bot.runtime.settings.workflow.emoji.approve == "thumbsup"

    iid = world.project("bot").issues.create({"title": "Backend Engineer", "labels": "job-match,job-match/pending"}).iid
    world.project("reviewer").issues.get(iid).notes.create({"body": "/help"})
    wait_until(lambda: bot_notes(world, iid, "help"), message="the help reply")
    settle(sandbox, bot)
    issue = world.project("reviewer").issues.get(iid)
    assert issue.state == "opened"
    assert set(issue.labels) == {"job-match", "job-match/pending"}
    [reply] = bot_notes(world, iid, "help")
    assert "Award :thumbsup: to approve" in reply.body


@pytest.mark.parametrize("template, why", [
    *((t, "is not a placeholder") for t in ("{title:>400000000}", "{title.__class__}", "{title!r}", "{0}", "{nope}")),
    ("{title}" * 40, "at most 255 characters"),
])
def test_a_title_template_with_more_than_placeholders_is_refused(world, bot, template, why):
    answer = put_config(bot, {"settings": {"staging": {"title_template": template}}})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert "staging.title_template" in problem and why in problem
    assert world.project("maintainer").commits.list(get_all=True) == []


def test_a_title_template_fills_placeholders_only_and_the_title_is_cut_at_255(world, bot):
    template = "{{literal}} {score}% {title} {title} {title}"
    assert put_config(bot, {"settings": {"staging": {"title_template": template}}}).status_code == 200
    staged = httpx.post(f"{bot.url}/api/v1/matches", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=60,
                        json={"title": "{score} " + "Python " * 30, "score": 90, "provider": "Example GmbH"})

    assert staged.status_code == 201, staged.text
    title = world.project("reviewer").issues.get(staged.json()["results"][0]["iid"]).title
    assert title.startswith("{literal} 90% {score} Python") and 250 <= len(title) <= 255 and title.endswith("…")


def test_a_billion_laughs_file_is_refused_at_its_line_and_the_bot_keeps_its_settings(world, bot):
    assert len(LAUGHS) == 342
    invalid_before = reloads("invalid")
    world.project("maintainer").files.create({"file_path": ".vorhoelle.yml", "branch": "main",
                                              "commit_message": "Laughs", "content": LAUGHS})

    wait_until(lambda: reloads("invalid") > invalid_before, message="the file to be refused")
    assert bot.runtime.settings.staging.threshold == 70
    # The next PUT replaces it; the commit message reads the old file without expanding it.
    answer = put_config(bot, {"settings": {"staging": {"threshold": 80}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["commit_message"].startswith("Vorhölle settings: change staging.threshold")


def test_aliases_are_refused_where_the_settings_model_would_take_them(tmp_path):
    from bot.config.check import run_checks

    path = tmp_path / "vorhoelle.yml"
    path.write_text("staging:\n  score_labels:\n    - &high {min: 90, label: high}\n    - *high\n")
    found = [str(f) for f in run_checks(str(path), offline=True)]
    assert found == [f"✗ {path}:3: the YAML anchor &high is not allowed in settings; write the value out where "
                     "it is used",
                     f"✗ {path}:4: the YAML alias *high is not allowed in settings; write the value out where "
                     "it is used"]


def test_the_author_of_a_put_is_one_inert_line_in_the_commit_message(world, bot):
    answer = put_config(bot, {"settings": {"staging": {"threshold": 85}},
                              "author": "Alice\n\nCloses #1, fixes group/other#2 and @all"})

    assert answer.status_code == 200, answer.text
    message = world.project("maintainer").commits.list(ref_name="main", get_all=True)[0].message
    [line] = [line for line in message.splitlines() if "Written through" in line]
    assert line == "Written through PUT /api/v1/config by Alice Closes ＃1, fixes group／other＃2 and ＠all."
    assert "#" not in message and "@" not in message


def test_a_reload_started_before_a_put_never_applies_the_older_file_after_it(sandbox, world, bot):
    """A push's reload has read the file; PUT writes and answers; the reload must then not apply
    what it read (held here between reading and applying). The PUT's own push is dropped, so that
    no later reload hides what the held one did."""
    maintainer = world.project("maintainer")
    gitlab = bot.runtime.gitlab
    read, go_on = threading.Event(), threading.Event()
    original = gitlab.repository_file

    def held_read(path, ref):
        found = original(path, ref)
        if found is not None and not read.is_set():
            read.set()
            go_on.wait(30)
        return found

    gitlab.repository_file = held_read
    maintainer.files.create({"file_path": ".vorhoelle.yml", "branch": "main", "commit_message": "85",
                             "content": "staging:\n  threshold: 85\n"})
    wait_until(read.is_set, message="the push's reload to read the file")
    with SandboxControl(sandbox.url, sandbox.root_token) as control:
        control.pause_hook(gitlab.hooks()[0]["id"])

    answer = put_config(bot, {"settings": {"staging": {"threshold": 90}}})
    assert answer.status_code == 200, answer.text
    go_on.set()
    wait_until(lambda: not bot.receiver.reloads, message="the held reload to finish")
    assert bot.runtime.settings.staging.threshold == 90


@pytest.mark.parametrize("settings, where", [
    ({"workflow": {"states": {"pending": {"label": "job-match/pending,x"}}}}, "workflow.states.pending.label"),
    ({"notify": {"owed_label": "owed\n/close"}}, "notify.owed_label"),
    ({"staging": {"score_labels": [{"min": 90, "label": "<b>high</b>"}]}}, "staging.score_labels[0].label"),
    ({"staging": {"reviewer": "rita\n/close"}}, "staging.reviewer"),
    ({"workflow": {"states": {"pending\n/close": {"label": "p"}}, "initial_state": "pending\n/close",
                   "transitions": []}}, "workflow.states"),
])
def test_label_names_usernames_and_state_names_are_checked(world, bot, settings, where):
    answer = put_config(bot, {"settings": settings})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert f": {where}: " in problem


def test_no_template_trusts_a_value_it_is_given():
    """`|safe` skips escaping: only the link the bot builds to a comment may have it."""
    from bot.resources import resource_dir

    unescaped = sorted(
        f"{path.name}: {line.strip()}"
        for path in resource_dir("templates").rglob("*.j2")
        for line in path.read_text().splitlines() if "|safe" in line.replace(" ", "")
    )
    assert unescaped == ['transition.md.j2: {%- elif channel == "comment" %} with [a comment]({{ link|safe }})']


def test_serve_refuses_a_settings_file_with_aliases_at_start(tmp_path):
    path = tmp_path / "vorhoelle.yml"
    path.write_text(LAUGHS)
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "serve", "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{path}:1: the YAML anchor &a is not allowed in settings" in done.stderr


def test_a_file_nested_too_deeply_or_too_large_is_refused_and_the_bot_keeps_going(world, bot, tmp_path):
    deep = "staging:\n  score_labels: " + "[" * 5000 + "]" * 5000 + "\n"
    invalid_before = reloads("invalid")
    world.project("maintainer").files.create({"file_path": ".vorhoelle.yml", "branch": "main",
                                              "commit_message": "Deep", "content": deep})

    wait_until(lambda: reloads("invalid") > invalid_before, message="the file to be refused")
    assert bot.runtime.settings.staging.threshold == 70
    world.project("maintainer").files.update(".vorhoelle.yml", {
        "branch": "main", "commit_message": "Huge", "content": "staging:\n  threshold: 85\n" + "#" * 300_000 + "\n"})
    wait_until(lambda: reloads("invalid") > invalid_before + 1, message="the huge file to be refused")
    assert bot.runtime.settings.staging.threshold == 70
    path = tmp_path / "vorhoelle.yml"
    path.write_text(deep)
    from bot.config.check import run_checks

    assert [str(f) for f in run_checks(str(path), offline=True)] == [
        f"✗ {path}:2: nested too deeply to read; settings are a few levels deep"]
