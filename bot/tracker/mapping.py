"""What the words in a reviewer's spreadsheet mean: header names and status words.

The defaults (`config/import-mapping.yml`) know German and English; a user's `--mapping` file is
merged over them, so a team can add its own words without repeating ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config.files import deep_merge
from bot.resources import resource_dir

# Columns the importer understands; a mapping may name header aliases for these only.
COLUMNS = (
    "number", "title", "company", "provider", "score", "status", "date", "decided", "url",
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

    def column_of(self, header: str) -> str | None:
        wanted = normalise(header)
        for column, aliases in self.column_aliases.items():
            if wanted in aliases:
                return column
        return None

    def state_of(self, status: str) -> str | None:
        """The state a status cell names: an exact word, else the one state whose word it contains."""
        text = normalise(status)
        for state, words in self.status_words.items():
            if text in words:
                return state
        padded = f" {text} "
        found = {state for state, words in self.status_words.items() if any(f" {w} " in padded for w in words)}
        return found.pop() if len(found) == 1 else None

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
    return ImportMapping(status_words=status, column_aliases=columns)
