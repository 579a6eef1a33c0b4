"""What a job posting is, as the tracker keeps it: the same facts whether they come from a
spreadsheet row, a `match` marker or a staged issue's description."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Job:
    title: str
    company: str = ""
    provider: str = ""
    url: str = ""
    location: str = ""
    employment_type: str = ""
    rate: str = ""

    @classmethod
    def from_facts(cls, facts: dict[str, Any], fallback_title: str) -> "Job":
        """The job in a mapping of facts (a marker's data); missing facts stay empty."""
        values = {f.name: str(facts.get(f.name) or "") for f in fields(cls)}
        return cls(**{**values, "title": values["title"] or fallback_title})

    def facts(self) -> dict[str, str]:
        """The facts that are known, for a `match` marker."""
        return {name: value for name, value in asdict(self).items() if value}
