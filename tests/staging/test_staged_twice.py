"""Staged twice at once: two instances of the bot given the same cycle (a retry that lands on
another instance) both miss each other in GitLab and both create the issue. The younger finds the
older right after, closes itself as its duplicate with GitLab's `/duplicate`, and owes nothing."""

from __future__ import annotations

from bot.gitlab_access import GitLabAccess
from bot.markers import parse_markers
from bot.staging.match import Match
from bot.snapshot import read_snapshot
from bot.staging.stage import _create, _prepare, stage_cycle
from tests.staging.conftest import match, settings_for


def test_the_younger_twin_closes_itself_as_a_duplicate_of_the_older(world):
    settings = settings_for(world)
    gitlab = GitLabAccess.from_settings(settings)
    posting = Match.model_validate(match("Data Engineer", 93))
    cycle = _prepare(settings, gitlab, [posting])
    first = _create(cycle, posting)     # one instance: nothing staged yet, so it creates
    second = _create(cycle, posting)    # the other, having looked before the first created

    assert (first.outcome, second.outcome, second.iid) == ("created", "unchanged", first.iid)
    assert "closed as its duplicate" in second.reason
    issues = {issue.iid: issue for issue in world.project("maintainer").issues.list(get_all=True, state="all")}
    [copy] = [iid for iid in issues if iid != first.iid]
    closed = issues[copy]
    assert closed.state == "closed" and closed.labels == []
    assert closed._links["closed_as_duplicate_of"].endswith(f"/issues/{first.iid}")
    assert [m.kind for m in parse_markers(closed.description)] == []   # nothing left to announce
    [note] = [m for n in read_snapshot(gitlab, copy).notes for m in parse_markers(n.body)]
    assert (note.kind, note.data["of"]) == ("duplicate", first.iid)
    assert issues[first.iid].state == "opened" and "job-match" in issues[first.iid].labels

    replay = stage_cycle(type("Runtime", (), {"settings": settings, "gitlab": gitlab, "notifier": None})(), [posting])
    assert [(r.outcome, r.iid) for r in replay] == [("unchanged", first.iid)]   # the original, never the copy
