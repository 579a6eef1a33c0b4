"""Markers: the bot's memory must survive any text inside it and never end its comment early."""

from __future__ import annotations

import pytest

from bot.markers import parse_markers, render_marker, source_id


@pytest.mark.parametrize("text", ["a--b", "--> <!-- x -->", "<script>", "@all", "ünïcode ✅", "\\\"quote"])
def test_any_text_survives_a_round_trip_and_stays_inside_the_comment(text):
    marker = render_marker("transition", source_id("note", 17), text=text, score=-3)

    inner = marker.removeprefix("<!-- ").removesuffix(" -->")
    assert "--" not in inner and "<" not in inner and ">" not in inner and "@" not in inner
    (parsed,) = parse_markers(f"before\n{marker}\nafter")
    assert (parsed.kind, parsed.source, parsed.data) == ("transition", "note:17", {"text": text, "score": -3})


def test_unreadable_markers_are_ignored_not_fatal():
    body = "<!-- vorhoelle:1 {not json} --> <!-- vorhoelle:1 [1, 2] --> <!-- vorhoelle:1 {\"kind\": 1} -->"
    assert parse_markers(body) == []
    assert parse_markers(None) == []
