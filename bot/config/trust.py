"""Which settings the project may change, and in which direction: the trust rule, in one place.

Settings that grant rights or send data out of GitLab come from the operator's configuration
(the defaults, the bot's own file, the environment, secret files). The project's `.vorhoelle.yml`
(pushed, or written by PUT /api/v1/config) sits between them and may only make these *stricter*:

| setting | the project may |
| --- | --- |
| `workflow.transitions` | raise a step's `min_access`, or drop a step; never add one or lower it |
| `workflow.initial_state` | nothing (starting later would skip a step someone has the right to) |
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
Won = Literal["project", "operator"]


@dataclass(frozen=True)
class Verdict:
    """What became of one trusted setting the project file changed."""

    setting: Path
    won: Won
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


def _switch(before: Any, after: Any, what: str) -> tuple[Won, str]:
    if after and not before:
        return "operator", f"the operator has {what} off; a project may switch it off, not on"
    return "project", f"{what} switched off (stricter)"


def _recipients(before: list[str], after: list[str], what: str) -> tuple[Won, str]:
    added = [r for r in after if r not in before]
    if added:
        return "operator", (f"the project's list adds {added}, which the operator did not configure; "
                            f"a project may only drop {what}")
    dropped = [r for r in before if r not in after]
    return "project", f"it drops {dropped} (stricter)" if dropped else f"the same {what}, in another order"


def _fixed_or_off(before: Any, after: Any, what: str) -> tuple[Won, str]:
    if after is None:
        return "project", f"{what} left out (stricter)"
    return "operator", (f"the project names {after!r}, the operator {before!r}; "
                        f"a project may leave {what} out, not change it")


def _same(before: Any, after: Any, what: str) -> tuple[Won, str]:
    return "operator", f"{what} is the operator's to choose (the project names {after!r})"


_CHANNELS = ("console", "gitlab_todo", "slack", "email", "whatsapp")
# Each trusted setting (besides the workflow's steps), how a change to it is judged, and its name
# in the verdict. A judge sees the operator's and the project's value, which differ.
_RULES: list[tuple[Path, Callable[[Any, Any, str], tuple[Won, str]], str]] = [
    *((("notify", "channels", name, "enabled"), _switch, f"the {name} channel") for name in _CHANNELS),
    (("notify", "channels", "email", "to"), _recipients, "recipients"),
    (("notify", "channels", "whatsapp", "to"), _recipients, "recipients"),
    (("notify", "channels", "slack", "channel"), _same, "the Slack channel"),
    (("notify", "channels", "email", "send_application", "enabled"), _switch, "sending the application"),
    (("notify", "channels", "email", "send_application", "attachment"), _fixed_or_off, "the attachment"),
    (("notify", "admin_channel"), _fixed_or_off, "the admin channel"),
    (("workflow", "initial_state"), _same, "the state a new match starts in"),  # later ones skip a step
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
    for path, judge, what in _RULES:
        before, after = _at(operator, path), _at(project, path)
        if before == after:
            continue
        won, why = judge(before, after, what)
        verdicts.append(Verdict(path, won, why))
        if won == "operator":
            _remove(data, path)
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
