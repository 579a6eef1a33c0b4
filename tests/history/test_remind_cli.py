"""`vorhoelle remind` as the scheduled pipeline runs it: --dry-run lists, a run sends once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest


def test_remind_lists_then_sends_a_deadline_once(vorhoelle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)   # the console channel's outbox lands here
    tomorrow = (datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Berlin")) + timedelta(days=1)).date()
    matches = tmp_path / "matches.json"
    matches.write_text(json.dumps([{"title": "Data Engineer", "score": 88, "provider": "Nordlicht",
                                    "url": "https://jobs.example.com/de-1", "apply_by": tomorrow.isoformat()}]))
    assert vorhoelle("stage", str(matches)).code == 0
    line = f"#1 deadline: apply by {tomorrow.isoformat()} (tomorrow)"

    dry = vorhoelle("remind", "--dry-run")
    assert (dry.code, dry.out) == (0, f"would send {line}\n")
    assert vorhoelle("remind", "--dry-run").out == f"would send {line}\n"   # nothing was written

    sent = vorhoelle("remind")
    assert sent.code == 0 and sent.out.endswith(f"\n{line}\n")   # after the console channel's message
    outbox = [json.loads(entry) for entry in (tmp_path / "vorhoelle-outbox.jsonl").read_text().splitlines()]
    assert [item["reason"] for entry in outbox for item in entry["items"] if item["event"] == "reminder"] == [
        f"apply by {tomorrow.isoformat()} (tomorrow)"]
    assert vorhoelle("remind").out == "no reminder is due\n"
