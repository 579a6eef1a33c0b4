"""`vorhoelle report` on the sandbox: the same figures as text and JSON, a period, bad input."""

from __future__ import annotations

import json

from tests.history.conftest import FIXTURES
from tests.history.scenario import make_known
from tests.support.world import World


def test_report_as_json_and_text_for_a_period(world: World, vorhoelle) -> None:
    assert vorhoelle("import-csv", str(FIXTURES / "applications_utf8_bom.csv")).code == 0
    make_known(world)
    exported = json.loads(vorhoelle("export", "--json", "-").out)

    figures = json.loads(vorhoelle("report", "--json").out)
    assert figures == exported["numbers"] | {"review_backlog": figures["review_backlog"],
                                             "time_in_state": figures["time_in_state"]}   # those run up to now
    assert figures["funnel"][0] == {"step": "staged", "count": len(exported["applications"]), "of_staged": 1.0,
                                    "conversion": 1.0}
    text = vorhoelle("report").out
    assert text.startswith(f"{len(exported['applications'])} applications\n\nFunnel")
    assert "By provider" in text and "Review backlog" in text

    assert json.loads(vorhoelle("report", "--json", "--since", "2099-01-01").out)["applications"] == 0
    bad = vorhoelle("report", "--since", "yesterday-ish")
    assert bad.code == 2 and bad.err.startswith("vorhoelle report: ") and len(bad.err.splitlines()) == 1
