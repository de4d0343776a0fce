"""The repository a new user clones: no text file carries a merge's conflict markers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7}|>{7}) ", re.M)
TEXT = {".py", ".md", ".toml", ".cfg", ".ini", ".j2", ".css", ".yml", ".yaml", ".txt", ".mako"}
SKIP = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".matcher", "node_modules"}


def test_no_file_holds_merge_conflict_markers() -> None:
    found = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.suffix in TEXT
        and path.is_file()
        and not SKIP.intersection(path.relative_to(ROOT).parts)
        and MARKER.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []
