"""Region-appropriate crisis resources, from a shipped data file (SPEC §3)."""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from pathlib import Path

from matcher.results import CrisisResource

DEFAULT_FILE = Path(str(files("matcher") / "data" / "crisis_resources.csv"))
"""The shipped directory: package data, so a normal (non-editable) install has it too."""
FALLBACK = "*"


class CrisisDirectory:
    """Crisis lines by region: an exact ISO 3166-2 entry wins, then the country, then ``*``."""

    def __init__(self, resources: list[CrisisResource]) -> None:
        self.resources = resources
        self._by_region: dict[str, list[CrisisResource]] = {}
        for r in resources:
            self._by_region.setdefault(r.region.upper(), []).append(r)

    @classmethod
    def from_csv(cls, path: str | Path = DEFAULT_FILE) -> CrisisDirectory:
        """Read a ``region,name,phone,text,url`` file."""
        with Path(path).open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return cls(
            [
                CrisisResource(
                    region=row["region"].strip(),
                    name=row["name"].strip(),
                    phone=row.get("phone") or None,
                    text=row.get("text") or None,
                    url=row.get("url") or None,
                )
                for row in rows
            ]
        )

    def for_region(self, region: str) -> list[CrisisResource]:
        """Resources for a client region (``US-CA`` → the ``US`` lines)."""
        key = region.strip().upper()
        for candidate in (key, key.split("-")[0], FALLBACK):
            if candidate in self._by_region:
                return self._by_region[candidate]
        return []


@cache
def default_directory() -> CrisisDirectory:
    """The shipped directory (``matcher/data/crisis_resources.csv``)."""
    return CrisisDirectory.from_csv(DEFAULT_FILE)


__all__ = ["CrisisDirectory", "default_directory"]
