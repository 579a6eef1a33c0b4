"""What the words in a reviewer's spreadsheet mean: header names and status words.

The defaults (`config/import-mapping.yml`) know German and English; a user's `--mapping` file is
merged over them, so a team can add its own words without repeating ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config.files import deep_merge
from bot.resources import resource_dir

# Columns the importer understands; a mapping may name header aliases for these only.
COLUMNS = (
    "number", "title", "company", "provider", "score", "status", "date", "decided", "interview", "url",
    "location", "employment_type", "rate", "notes",
)
_NOT_WORD = re.compile(r"[^\w#]+")


class MappingError(ValueError):
    """The mapping file cannot be used (unknown state, wrong shape)."""


def normalise(text: str) -> str:
    """`" Nr. "` -> `"nr"`, `"Beworben-am:"` -> `"beworben am"`: how headers and words compare."""
    return " ".join(_NOT_WORD.sub(" ", text.replace("\ufeff", "").casefold()).split())


@dataclass(frozen=True)
class ImportMapping:
    status_words: dict[str, tuple[str, ...]]  # state -> normalised words
    column_aliases: dict[str, tuple[str, ...]]  # column -> normalised header names
    negations: tuple[str, ...] = ()  # words that turn the next word into its opposite
    with_application_date: dict[str, str] = field(default_factory=dict)  # state -> state once applied
    without_application_date: dict[str, str] = field(default_factory=dict)  # state -> state never applied

    def column_of(self, header: str) -> str | None:
        wanted = normalise(header)
        for column, aliases in self.column_aliases.items():
            if wanted in aliases:
                return column
        return None

    def state_of(self, status: str) -> str | None:
        """The state a status cell names: an exact word, else the one state whose words it
        contains. A word inside a longer one found too counts as that longer one ("Angebot
        abgelehnt" is declined, not offer); a word right after a negation is not that word
        ("nicht beworben" never means sent)."""
        text = normalise(status)
        for state, words in self.status_words.items():
            if text in words:
                return state
        found = [(span, state) for state, words in self.status_words.items()
                 for word in words for span in self._spans(text, word)]
        outer = [(span, state) for span, state in found
                 if not any(other != span and other[0] <= span[0] and span[1] <= other[1] for other, _ in found)]
        states = {state for _, state in outer}
        return states.pop() if len(states) == 1 else None

    def _spans(self, text: str, word: str) -> list[tuple[int, int]]:
        """Where `word` stands in `text` as itself (token positions), not right after a negation."""
        tokens, wanted = text.split(), word.split()
        return [
            (start, start + len(wanted)) for start in range(len(tokens) - len(wanted) + 1)
            if tokens[start:start + len(wanted)] == wanted and (start == 0 or tokens[start - 1] not in self.negations)
        ]

    def state_for(self, status: str, applied: bool, initial_state: str) -> str | None:
        """The state of a row: its status word, corrected by whether it has an application date."""
        state = self.state_of(status) if status else initial_state
        if state is None:
            return None
        rule = self.with_application_date if applied else self.without_application_date
        return rule.get(state, state)

    def known_words(self) -> list[str]:
        return sorted(word for words in self.status_words.values() for word in words)


def default_mapping_file() -> Path:
    return resource_dir("config") / "import-mapping.yml"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{path}: the top level must be a mapping with `status` and `columns`")
    return data


def _word_lists(section: Any, name: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(section, dict) or not all(isinstance(v, list) for v in section.values()):
        raise MappingError(f"`{name}` must map each name to a list of words")
    for key, words in section.items():
        odd = [word for word in words if not isinstance(word, (str, int)) or isinstance(word, bool)]
        if odd:
            raise MappingError(f"`{name}.{key}`: {odd} are not words; quote them (YAML reads no/yes/on/off as true/false)")
    return {key: tuple(normalise(str(word)) for word in words) for key, words in section.items()}


def load_mapping(user_file: str | Path | None = None, states: list[str] | None = None) -> ImportMapping:
    """The default mapping with `user_file` merged over it; every state must be one of `states`."""
    data = _read(default_mapping_file())
    if user_file is not None:
        data = deep_merge(data, _read(Path(user_file)))
    status = _word_lists(data.get("status"), "status")
    columns = _word_lists(data.get("columns"), "columns")
    if states is not None:
        unknown = sorted(set(status) - set(states))
        if unknown:
            raise MappingError(f"status words map to unknown states {unknown}; known: {sorted(states)}")
    unknown_columns = sorted(set(columns) - set(COLUMNS))
    if unknown_columns:
        raise MappingError(f"`columns` names unknown columns {unknown_columns}; known: {list(COLUMNS)}")
    if "title" not in columns:
        raise MappingError("`columns` must say which headers name the `title` column")
    rules = {name: _state_rule(data.get(name), name, states) for name in ("with_application_date", "without_application_date")}
    negations = data.get("negations") or []
    if not isinstance(negations, list):
        raise MappingError("`negations` must be a list of words")
    return ImportMapping(status_words=status, column_aliases=columns,
                         negations=tuple(normalise(str(word)) for word in negations), **rules)


def _state_rule(section: Any, name: str, states: list[str] | None) -> dict[str, str]:
    """`{from state: to state}`, every state known."""
    if section is None:
        return {}
    if not isinstance(section, dict) or not all(isinstance(v, str) for v in section.values()):
        raise MappingError(f"`{name}` must map a state to a state, e.g. {{pending: sent}}")
    unknown = sorted({*section, *section.values()} - set(states)) if states is not None else []
    if unknown:
        raise MappingError(f"`{name}` names unknown states {unknown}; known: {sorted(states or [])}")
    return {str(k): str(v) for k, v in section.items()}
