"""What the settings page shows and edits, and how a submitted form becomes a project file.

Pure functions: settings and the project file's data in, what to show (each setting with where
its value came from) or the new file's data out. The page edits a few of the settings a project
file may hold (bot/config/project_file.py's ALLOWED); the file's other settings are kept as
they are. A value equal to the one in effect leaves the file alone, so that opening the page and
saving writes nothing the person did not change. Values are passed on as typed, wrong or not:
the settings model judges them, so the page's errors are `config check`'s.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from bot.config.files import default_config_file
from bot.config.notify_sections import NotifyChannels
from bot.config.project_file import PROJECT_FILE
from bot.config.settings import Settings, notify_events

Source = Literal["default", "operator", "project file"]
QUIET_HOURS = ("notify", "quiet_hours")
BATCH = ("notify", "batch")
BATCH_SECONDS = ("notify", "batch_seconds")
EVENTS = ("notify", "events")
THRESHOLD = ("staging", "threshold")
SCORE_LABELS = ("staging", "score_labels")
EMOJI = ("workflow", "emoji")
# Every setting the page edits, in the order it shows them.
EDITED = (QUIET_HOURS, BATCH, BATCH_SECONDS, EVENTS, THRESHOLD, SCORE_LABELS, EMOJI)
CHANNELS = tuple(NotifyChannels.model_fields)
# The project file's other settings, shown read-only (changed in the file itself). Recipients and
# senders are left out: the page is for reporters too, and they are the operator's anyway.
OTHERS = (
    ("workflow", "states"), ("workflow", "transitions"), ("workflow", "initial_state"),
    ("workflow", "marker_label"), ("workflow", "confidential"),
    ("staging", "title_template"), ("staging", "reviewer"), ("staging", "max_field_chars"),
    ("catch_up", "interval_minutes"), ("catch_up", "first_window_days"),
    *(("notify", "channels", name, "enabled") for name in CHANNELS),
    ("notify", "admin_channel"), ("notify", "max_age_days"), ("notify", "notes_per_minute"),
    ("notify", "owed_label"), ("notify", "retry"),
)
FormItems = Sequence[tuple[str, str]]
MAX_LABEL_ROWS = 100


@dataclass(frozen=True)
class Shown:
    """One setting as the page shows it."""

    key: str          # dotted, as `config check` names it
    value: Any
    source: Source
    origin: str       # `config check`'s words for where it was written


def _at(data: Any, loc: tuple[str, ...]) -> Any:
    for part in loc:
        data = data.get(part) if isinstance(data, Mapping) else getattr(data, part, None)
    return data


def source_of(origin: str) -> Source:
    """Classify `Settings.origin_of`'s answer: the packaged defaults or the model's own default,
    the project file, or else the operator's file, environment or arguments."""
    if origin.startswith(f"{PROJECT_FILE}:"):
        return "project file"
    if origin == "settings" or origin.startswith(f"{default_config_file()}:"):
        return "default"
    return "operator"


def events_of(settings: Settings) -> list[str]:
    """The events a rule can name (the settings model's own list)."""
    return notify_events(settings.workflow)


def enabled_channels(settings: Settings) -> list[str]:
    return [name for name in CHANNELS if getattr(settings.notify.channels, name).enabled]


def event_channels(settings: Settings) -> dict[str, list[str]]:
    """Per event, the enabled channels it reaches (`all`, or no rule, is every one)."""
    enabled = enabled_channels(settings)
    routed = {}
    for event in events_of(settings):
        rule = settings.notify.events.get(event)
        names = ["all"] if rule is None else rule.channels
        routed[event] = enabled if "all" in names else [n for n in enabled if n in names]
    return routed


def _value(settings: Settings, loc: tuple[str, ...]) -> Any:
    if loc == EVENTS:
        return event_channels(settings)
    value = _at(settings, loc)
    if loc == SCORE_LABELS:
        return [label.model_dump() for label in value]
    return value.model_dump() if hasattr(value, "model_dump") else value


def shown(settings: Settings, project_layer: Any) -> dict[str, Shown]:
    """Each edited setting's effective value, and where it came from."""
    found = {}
    for loc in EDITED:
        origin = settings.origin_of(loc, project_layer)
        found[".".join(loc)] = Shown(".".join(loc), _value(settings, loc), source_of(origin), origin)
    return found


def others(settings: Settings, project_layer: Any) -> list[Shown]:
    """The settings in `OTHERS` as short text, each with where it came from."""
    shown_others = []
    for loc in OTHERS:
        value = _at(settings, loc)
        if not isinstance(value, str):  # as JSON: true, null, lists, as YAML reads them too
            value = json.dumps(_plain(value), ensure_ascii=False, separators=(", ", ": "))
        origin = settings.origin_of(loc, project_layer)
        shown_others.append(Shown(".".join(loc), value, source_of(origin), origin))
    return shown_others


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _number(text: str) -> int | float | str:
    """A number as typed; anything else stays text for the settings model to refuse."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _submitted(form: FormItems, settings: Settings) -> dict[tuple[str, ...], Any]:
    """The values the form asks for, in the shapes the settings model reads."""
    one = dict(form)
    checked = {name for name, value in form if value == "on"}
    quiet = None
    if "quiet_enabled" in checked:
        quiet = {"start": one.get("quiet_start", "").strip(), "end": one.get("quiet_end", "").strip(),
                 "timezone": one.get("quiet_timezone", "UTC").strip()}
    labels = []
    for index in range(row_count(one)):
        row = {part: one.get(f"score_label.{index}.{part}", "").strip() for part in ("min", "label", "color")}
        if row["label"] or row["min"]:
            labels.append({"min": _number(row["min"]), "label": row["label"], "color": row["color"] or "#8FBC8F"})
    return {
        QUIET_HOURS: quiet,
        BATCH: "batch" in checked,
        BATCH_SECONDS: _number(one.get("batch_seconds", "").strip()),
        EVENTS: {event: [value for name, value in form if name == f"event.{event}"] for event in events_of(settings)},
        THRESHOLD: _number(one.get("threshold", "").strip()),
        SCORE_LABELS: labels,
        EMOJI: {"enabled": "emoji_enabled" in checked, "approve": one.get("emoji_approve", "").strip(),
                "reject": one.get("emoji_reject", "").strip()},
    }


def row_count(form: Mapping[str, str]) -> int:
    """How many score-label rows the form says it has; a forged count is cut to `MAX_LABEL_ROWS`."""
    given = form.get("score_label_rows", "")
    return min(int(given), MAX_LABEL_ROWS) if given.isascii() and given.isdigit() else 0


def _put(data: dict[str, Any], loc: tuple[str, ...], value: Any) -> None:
    for part in loc[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[loc[-1]] = value


def project_data(form: FormItems, settings: Settings, file_data: Mapping[str, Any]) -> dict[str, Any]:
    """The project file's new data: `file_data` with every setting the form changed.

    An event's channels are written as the list of channels it reaches; its `min_score` stays.
    """
    data = copy.deepcopy(dict(file_data))
    for loc, wanted in _submitted(form, settings).items():
        if wanted == _value(settings, loc):
            continue
        if loc == EVENTS:
            for event, channels in wanted.items():
                if channels != event_channels(settings)[event]:
                    rule = settings.notify.events.get(event)
                    _put(data, (*EVENTS, event), {"channels": channels, "min_score": rule.min_score if rule else 0})
            continue
        _put(data, loc, wanted)
    return data


def problems_by_field(problems: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem at the edited setting it names (the longest match), the rest apart."""
    keys = sorted((".".join(loc) for loc in EDITED), key=len, reverse=True)
    placed: dict[str, list[str]] = {}
    rest = []
    for problem in problems:
        key = next((k for k in keys if f" {k}" in problem or f" {k}." in problem or f"{k}:" in problem), None)
        if key is None:
            rest.append(problem)
        else:
            placed.setdefault(key, []).append(problem)
    return placed, rest


def label_rows(effective: Sequence[Mapping[str, Any]], typed: Mapping[str, str]) -> list[dict[str, Any]]:
    """The score labels' rows to show: as typed (after a preview or a refusal) or as in effect,
    and one empty row to add a label with."""
    parts = ("min", "label", "color")
    if typed:
        rows = [{part: typed.get(f"score_label.{index}.{part}", "") for part in parts}
                for index in range(row_count(typed))]
    else:
        rows = [{part: label.get(part, "") for part in parts} for label in effective]
    if not rows or any(rows[-1].values()):
        rows.append({part: "" for part in parts})
    return rows
