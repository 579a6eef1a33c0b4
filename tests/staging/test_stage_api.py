"""POST /api/v1/matches through the bot under uvicorn, checked in the sandbox GitLab."""

from __future__ import annotations

import base64

import httpx

from bot.markers import parse_markers
from tests.staging.conftest import api_client, issues_in, match, settings_for
from tests.support.botserver import running_bot


def issue_of(world, iid):
    return world.project("maintainer").issues.get(iid)


def rescore_notes(issue):
    """The bot's notes announcing a new score, oldest first (other notes, e.g. the notifier's, aside)."""
    notes = issue.notes.list(get_all=True, sort="asc", order_by="created_at")
    return [n for n in notes if any(m.kind == "rescored" for m in parse_markers(n.body))]


def test_a_new_match_becomes_an_assigned_labelled_issue(world, api):
    answer = api.post("/matches", json=match("Senior Python Developer", 93))

    assert answer.status_code == 201, answer.text
    [result] = answer.json()["results"]
    assert result["outcome"] == "created" and answer.json()["created"] == 1
    issue = issue_of(world, result["iid"])
    assert issue.web_url == result["url"]
    assert issue.title == "[JOB-MATCH] 93% — Senior Python Developer"
    assert set(issue.labels) == {"job-match", "job-match/pending", "match-score/high"}
    assert [a["username"] for a in issue.assignees] == [world.users["reviewer"]["username"]]
    [marker] = parse_markers(issue.description)
    assert (marker.kind, marker.data["score"]) == ("match", 93)
    assert marker.source == f"match:{result['key']}"
    for text in ("| Provider | Nordlicht Payments GmbH |", "✅ met", "❌ missing", "<details>", "/accept",
                 "/reject"):
        assert text in issue.description
    assert "\n/approve" not in issue.description


def test_only_the_reviewer_gets_a_todo(world, api):
    api.post("/matches", json=match(score=80)).raise_for_status()

    for role, client in world.clients.items():
        todos = client.todos.list(get_all=True)
        assert len(todos) == (1 if role == "reviewer" else 0), role
    [todo] = world.clients["reviewer"].todos.list(get_all=True)
    assert todo.action_name == "assigned"


def test_score_labels_follow_the_configured_thresholds(world, api):
    answer = api.post("/matches", json=[match("A", 90), match("B", 89), match("C", 70)]).json()

    labels = [set(issue_of(world, r["iid"]).labels) - {"job-match", "job-match/pending"} for r in answer["results"]]
    assert labels == [{"match-score/high"}, {"match-score/medium"}, {"match-score/medium"}]


def test_below_the_threshold_is_skipped_with_the_reason(world, api):
    answer = api.post("/matches", json=match(score=69))

    assert answer.status_code == 200
    [result] = answer.json()["results"]
    assert result["outcome"] == "skipped" and result["iid"] is None
    assert "69" in result["reason"] and "70" in result["reason"]
    assert issues_in(world) == []


def test_the_threshold_comes_from_the_settings(world):
    with running_bot(settings_for(world, staging={"threshold": 85})) as bot, api_client(bot) as api:
        outcomes = [r["outcome"] for r in api.post("/matches", json=[match(score=84), match(score=85)]).json()["results"]]
    assert outcomes == ["skipped", "created"]


def test_a_cycle_answers_every_match_in_order(world, api):
    cycle = [match("One", 95), match("Two", 20), match("Three", 75)]

    body = api.post("/matches", json=cycle).json()

    assert [(r["title"], r["outcome"]) for r in body["results"]] == [
        ("One", "created"), ("Two", "skipped"), ("Three", "created")]
    assert (body["created"], body["skipped"], body["updated"], body["unchanged"]) == (2, 1, 0, 0)


def test_a_replay_finds_the_issue_in_gitlab_even_after_a_restart(world, settings):
    posting = match("Platform Engineer", 88)
    with running_bot(settings) as bot, api_client(bot) as api:
        first = api.post("/matches", json=posting).json()["results"][0]
        again = api.post("/matches", json=posting)
    with running_bot(settings) as bot, api_client(bot) as api:
        after_restart = api.post("/matches", json=posting)

    for answer in (again, after_restart):
        assert answer.status_code == 200
        [result] = answer.json()["results"]
        assert (result["outcome"], result["iid"]) == ("unchanged", first["iid"])
    assert len(issues_in(world)) == 1


def test_without_url_title_and_provider_identify_the_match(world, api):
    first = match("Data Engineer", 80, url=None, provider="Grünfeld Analytics")
    same = match("  data   ENGINEER ", 80, url=None, provider="grünfeld analytics")
    other = match("Data Engineer", 80, url=None, provider="Another Company")

    results = [api.post("/matches", json=m).json()["results"][0] for m in (first, same, other)]

    assert [r["outcome"] for r in results] == ["created", "unchanged", "created"]
    assert results[0]["iid"] == results[1]["iid"] != results[2]["iid"]


def test_a_new_score_updates_the_issue_with_one_note(world, api):
    posting = match("Site Reliability Engineer", 92)
    iid = api.post("/matches", json=posting).json()["results"][0]["iid"]

    rescored = api.post("/matches", json={**posting, "score": 78}).json()["results"][0]
    replayed = api.post("/matches", json={**posting, "score": 78}).json()["results"][0]

    assert (rescored["outcome"], rescored["iid"]) == ("updated", iid)
    assert "92" in rescored["reason"] and "78" in rescored["reason"]
    assert replayed["outcome"] == "unchanged"
    issue = issue_of(world, iid)
    assert issue.title == "[JOB-MATCH] 78% — Site Reliability Engineer"
    assert set(issue.labels) == {"job-match", "job-match/pending", "match-score/medium"}
    assert parse_markers(issue.description)[0].data["score"] == 78
    notes = rescore_notes(issue)
    assert len(notes) == 1 and "92 % → 78 %" in notes[0].body
    assert notes[0].author["username"] == world.users["bot"]["username"]


def test_a_score_going_back_and_forth_is_noted_each_time(world, api):
    posting = match("Backend Engineer", 80)
    iid = api.post("/matches", json=posting).json()["results"][0]["iid"]
    for score in (90, 80, 90):
        assert api.post("/matches", json={**posting, "score": score}).json()["results"][0]["outcome"] == "updated"

    notes = [n.body for n in rescore_notes(issue_of(world, iid))]
    assert [("80 % → 90 %" in b, "90 % → 80 %" in b) for b in notes] == [(True, False), (False, True), (True, False)]


def test_unknown_fields_are_kept_in_a_details_block(world, api):
    result = api.post("/matches", json=match(source_board="example-board", salary_band={"min": 80})).json()

    description = issue_of(world, result["results"][0]["iid"]).description
    assert "More details" in description
    assert "source\\_board" in description and "example-board" in description
    assert "salary\\_band" in description and '"min": 80' in description


def test_an_uploaded_attachment_downloads_from_its_link(world, api, sandbox):
    content = b"%PDF-1.4 made-up CV of Alex Example\n"
    attachment = {"name": "Alex CV (2025).pdf", "content": base64.b64encode(content).decode()}

    result = api.post("/matches", json=match(attachments=[attachment])).json()["results"][0]

    description = issue_of(world, result["iid"]).description
    link = next(line for line in description.splitlines() if line.startswith("- [Alex CV"))
    target = link[link.index("](") + 2 : -1]
    assert target.startswith("/uploads/")
    download = httpx.get(world.web_url + target, headers={"PRIVATE-TOKEN": world.users["reviewer"]["token"]})
    assert download.status_code == 200 and download.content == content


def test_a_default_attachment_from_the_settings(world, tmp_path):
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(b"%PDF-1.4 default CV\n")
    settings = settings_for(world, staging={"attachments": {"cv": str(cv)}})
    with running_bot(settings) as bot, api_client(bot) as api:
        result = api.post("/matches", json=match(attachments=["cv"])).json()["results"][0]
        unknown = api.post("/matches", json=match(attachments=["portfolio"]))

    assert "- [cv](/uploads/" in issue_of(world, result["iid"]).description
    assert unknown.status_code == 422
    assert unknown.json()["details"][0]["loc"] == ["attachments", 0]
    assert "portfolio" in unknown.json()["details"][0]["msg"]


def test_an_unreadable_default_attachment_stops_the_cycle_before_its_first_issue(world, tmp_path):
    settings = settings_for(world, staging={"attachments": {"cv": str(tmp_path / "gone.pdf")}})
    with running_bot(settings) as bot, api_client(bot) as api:
        answer = api.post("/matches", json=[match("Without attachment", 90), match(attachments=["cv"])])

    assert answer.status_code == 503
    assert "staging.attachments.cv: cannot read" in answer.json()["detail"]
    assert issues_in(world) == []


def test_staging_a_posting_imported_from_the_spreadsheet_keeps_the_import_record(world, settings, api):
    from bot.gitlab_access import GitLabAccess
    from bot.tracker.csvfile import read_sheet
    from bot.tracker.importer import import_sheet
    from bot.tracker.mapping import load_mapping

    posting = match("Platform Engineer", 92)
    sheet = read_sheet(f"Nr;Projekt;Link;Match;Status;Datum;Notizen\n"
                       f"7;Platform Engineer;{posting['url']};75-80%;versendet;03.02.2024;Rückruf am Montag\n".encode())
    imported = import_sheet(settings, GitLabAccess.from_settings(settings), sheet,
                            load_mapping(states=list(settings.workflow.states)), source_name="bewerbungen.csv")
    [(_, iid)] = imported.created

    result = api.post("/matches", json=posting).json()["results"][0]

    assert (result["outcome"], result["iid"]) == ("updated", iid)
    issue = issue_of(world, iid)
    kept = [m for m in parse_markers(issue.description) if m.kind == "imported"]
    assert [(m.source, m.data["applied"], m.data["notes"]) for m in kept] == [
        (f"import:url:{posting['url']}", "2024-02-03", "Rückruf am Montag")]  # a row is known by its posting
    assert [m.data["score"] for m in parse_markers(issue.description) if m.kind == "match"] == [92]
    assert "75-80 % → 92 %" in rescore_notes(issue)[0].body
