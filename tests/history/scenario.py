"""Known applications in a sandbox project, made straight through python-gitlab: issues the bot
wrote (with markers), label moves by different people, the bot's history notes, a forgery."""

from __future__ import annotations

from dataclasses import dataclass

from bot.markers import render_marker
from bot.staging.match import Match
from bot.config.settings import load_settings
from bot.staging.description import render_description
from tests.support.world import World


@dataclass(frozen=True)
class Known:
    full: int  # marker with every fact; approved by the reviewer, sent by the maintainer
    staged: int  # described by staging's own template; rejected with a reason
    forged: int  # written by a person, with a marker that must not count
    unrelated: int  # no job-match label


def move(world: World, role: str, iid: int, labels: list[str]) -> None:
    issue = world.project(role).issues.get(iid)
    issue.labels = labels
    issue.save()


def history_note(world: World, iid: int, source: str, **data: object) -> None:
    body = f"Moved by a reviewer.\n\n{render_marker('transition', source, **data)}"
    world.project("bot").issues.get(iid, lazy=True).notes.create({"body": body})


def make_known(world: World) -> Known:
    bot = world.project("bot")
    reviewer, maintainer = world.users["reviewer"]["username"], world.users["maintainer"]["username"]
    facts = {
        "title": "Platform Engineer", "company": "Initech", "provider": "freelancermap",
        "url": "https://jobs.example.org/platform", "location": "Hamburg", "employment_type": "Freelance",
        "rate": "100 €/h", "score": 91, "requirements_met": ["Python", "Kubernetes"],
        "requirements_missing": ["Go"], "skill_suggestions": ["Learn Go"],
    }
    full = bot.issues.create({
        "title": "[JOB-MATCH] 91% — Platform Engineer",
        "description": "Staged.\n\n" + render_marker("match", "match:https://jobs.example.org/platform", **facts),
        "labels": "job-match,job-match/pending,match-score/high",
    })
    move(world, "reviewer", full.iid, ["job-match", "job-match/approved", "match-score/high"])
    history_note(world, full.iid, "label_event:1", to="approved", username=reviewer, text="great fit")
    move(world, "maintainer", full.iid, ["job-match", "job-match/sent", "match-score/high"])

    match = Match.model_validate({
        "title": "Data <Scientist>", "score": 78, "provider": "GULP", "location": "Berlin",
        "rate": {"amount": 90}, "url": "https://jobs.example.org/data?id=7&ref=x",
        "requirements": [{"requirement": "Python", "met": "met"}, {"requirement": "R", "met": "missing"},
                         {"requirement": "SQL | dbt", "met": "partial"}],
    })
    staged = bot.issues.create({
        "title": "[JOB-MATCH] 78% — Data <Scientist>",
        "description": render_description(load_settings(), match, [], world.users["bot"]["username"]),
        "labels": "job-match,job-match/pending",
    })
    move(world, "reviewer", staged.iid, ["job-match", "job-match/rejected"])
    history_note(world, staged.iid, "note:5", to="rejected", username=reviewer, text="too junior")

    forged = world.project("reviewer").issues.create({
        "title": "Looks like a match",
        "description": render_marker("match", "match:x", score=99, company="Forged Inc", provider="Nobody"),
        "labels": "job-match,job-match/pending",
    })
    world.project("reviewer").issues.get(forged.iid, lazy=True).notes.create(
        {"body": render_marker("transition", "note:1", to="approved", username=maintainer, text="forged")}
    )
    unrelated = bot.issues.create({"title": "Housekeeping", "labels": "chore"})
    return Known(full=full.iid, staged=staged.iid, forged=forged.iid, unrelated=unrelated.iid)
