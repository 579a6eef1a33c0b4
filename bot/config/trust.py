"""Which settings the project may change, and in which direction: the trust rule, in one place.

Settings that grant rights or send data out of GitLab come from the operator's configuration
(the defaults, the bot's own file, the environment, secret files). The project's `.vorhoelle.yml`
(pushed, or written by PUT /api/v1/config) sits between them and may only make these *stricter*:

| setting | the project may |
| --- | --- |
| `workflow.transitions` | raise a step's `min_access`, or drop a step; never add one or lower it |
| `notify.channels.<name>.enabled` | switch a channel off, never on |
| `notify.channels.email.to`, `notify.channels.whatsapp.to` | drop recipients, never add one |
| `notify.channels.slack.channel` | nothing (another channel is another audience) |
| `notify.channels.email.send_application` | switch it off, or leave out the attachment |
| `notify.admin_channel` | switch it off (null) |

A looser value is not applied: the operator's value wins, and `Verdict`s say which value won and
why (`vorhoelle config check`, the reload's log; PUT refuses it with 422).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.config.sections import ACCESS_LEVELS

Path = tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What became of one trusted setting the project file changed."""

    setting: Path
    won: Literal["project", "operator"]
    why: str

    @property
    def dotted(self) -> str:
        return ".".join(self.setting)

    def __str__(self) -> str:
        return f"{self.dotted}: the {self.won}'s value applies: {self.why}"


def _at(obj: Any, path: Path) -> Any:
    for part in path:
        obj = getattr(obj, part)
    return obj


def _switch(path: Path, what: str) -> Callable[[Any, Any], Verdict | None]:
    def judge(operator: Any, project: Any) -> Verdict | None:
        before, after = _at(operator, path), _at(project, path)
        if before == after:
            return None
        if after and not before:
            return Verdict(path, "operator", f"the operator has {what} off; a project may switch it off, not on")
        return Verdict(path, "project", f"{what} switched off (stricter)")
    return judge


def _recipients(path: Path) -> Callable[[Any, Any], Verdict | None]:
    def judge(operator: Any, project: Any) -> Verdict | None:
        before, after = _at(operator, path), _at(project, path)
        if before == after:
            return None
        added = [r for r in after if r not in before]
        if added:
            return Verdict(path, "operator", f"the project's list adds {added}, which the operator did not "
                                             "configure; a project may only drop recipients")
        return Verdict(path, "project", "it drops recipients (stricter)")
    return judge


def _fixed_or_off(path: Path, what: str) -> Callable[[Any, Any], Verdict | None]:
    def judge(operator: Any, project: Any) -> Verdict | None:
        before, after = _at(operator, path), _at(project, path)
        if before == after:
            return None
        if after is None:
            return Verdict(path, "project", f"{what} left out (stricter)")
        return Verdict(path, "operator", f"the project names {after!r}, the operator {before!r}; a project "
                                         f"may leave {what} out, not change it")
    return judge


def _same(path: Path, what: str) -> Callable[[Any, Any], Verdict | None]:
    def judge(operator: Any, project: Any) -> Verdict | None:
        before, after = _at(operator, path), _at(project, path)
        if before == after:
            return None
        return Verdict(path, "operator", f"{what} is the operator's to choose (the project names {after!r})")
    return judge


_CHANNELS = ("console", "gitlab_todo", "slack", "email", "whatsapp")
_RULES: list[Callable[[Any, Any], Verdict | None]] = [
    *(_switch(("notify", "channels", name, "enabled"), f"the {name} channel") for name in _CHANNELS),
    _recipients(("notify", "channels", "email", "to")),
    _recipients(("notify", "channels", "whatsapp", "to")),
    _same(("notify", "channels", "slack", "channel"), "the Slack channel"),
    _switch(("notify", "channels", "email", "send_application", "enabled"), "sending the application"),
    _fixed_or_off(("notify", "channels", "email", "send_application", "attachment"), "the attachment"),
    _fixed_or_off(("notify", "admin_channel",), "the admin channel"),
]


def _transitions(operator: Any, project: Any) -> tuple[list[Verdict], list[dict[str, str]] | None]:
    """Verdicts on the project's workflow steps, and the steps to use instead (None: as written)."""
    granted = {(t.from_state, t.to_state): t.min_access for t in operator.workflow.transitions}
    asked = project.workflow.transitions
    verdicts: list[Verdict] = []
    kept: list[dict[str, str]] = []
    path = ("workflow", "transitions")
    for t in asked:
        step = f"{t.from_state} -> {t.to_state}"
        operator_access = granted.get((t.from_state, t.to_state))
        if operator_access is None:
            verdicts.append(Verdict(path, "operator", f"the step {step} ({t.min_access}) is not in the operator's "
                                                      "workflow; a project may drop steps, not add them"))
            continue
        access = t.min_access
        if ACCESS_LEVELS[access] < ACCESS_LEVELS[operator_access]:
            verdicts.append(Verdict(path, "operator", f"the step {step} needs {operator_access} (the project "
                                                      f"asks {access}); a project may raise it, not lower it"))
            access = operator_access
        elif access != operator_access:
            verdicts.append(Verdict(path, "project", f"the step {step} needs {access}, more than the "
                                                     f"operator's {operator_access} (stricter)"))
        kept.append({"from": t.from_state, "to": t.to_state, "min_access": access})
    dropped = [f"{a} -> {b}" for (a, b) in granted if (a, b) not in {(t.from_state, t.to_state) for t in asked}]
    if dropped:
        verdicts.append(Verdict(path, "project", f"it drops the steps {', '.join(dropped)} (stricter)"))
    looser = any(v.won == "operator" for v in verdicts)
    return verdicts, kept if looser else None


def restrict(operator: Any, project: Any, project_data: dict[str, Any]) -> tuple[list[Verdict], dict[str, Any]]:
    """Judge every trusted setting: `operator` are the settings without the project file,
    `project` with it as written (`project_data`). Returns the verdicts and the project file's
    data with every looser value taken out (so that the operator's applies)."""
    verdicts, data = [], copy.deepcopy(project_data)
    transitions, kept = _transitions(operator, project)
    verdicts += transitions
    if kept is not None:
        data["workflow"]["transitions"] = kept
    for rule in _RULES:
        verdict = rule(operator, project)
        if verdict is None:
            continue
        verdicts.append(verdict)
        if verdict.won == "operator":
            _remove(data, verdict.setting)
    return verdicts, data


def _remove(data: dict[str, Any], path: Path) -> None:
    """Take the value at `path` out of the project file's data, where the file wrote it."""
    parent: Any = data
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def looser(verdicts: list[Verdict]) -> list[Verdict]:
    """The verdicts where the project asked for more than the operator allows."""
    return [v for v in verdicts if v.won == "operator"]
