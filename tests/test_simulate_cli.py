"""``matcher simulate --quick`` end to end: a real service process, a cold start, two rounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli import main


@pytest.mark.slow
def test_a_quick_simulation_starts_cold_retrains_and_reports_the_final_uplift(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    small_world: Path,
) -> None:
    from core.settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("MATCHER_HOME", str(home))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home}/mlflow.db")
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    argv = ["simulate", "--world", str(small_world), "--rounds", "2", "--requests", "80"]
    try:
        main([*argv, "--quick", "--cold-start", "--seed", "1"])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert re.fullmatch(r"final true uplift@5=-?\d+\.\d{4}", lines[-1])
    rows = {
        int(m.group(1)): (m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(\d)\s+80\s+\d+\s+\d+\s+(\S+)(.*)$", out, re.M)
    }
    assert sorted(rows) == [1, 2]
    served_first, rest_of_first = rows[1]
    assert served_first == "rules"
    # v1 is trained on round 1's logs; it serves round 2 only if the gate found it better than
    # the rules it would replace.
    assert re.search(r"v1 (promoted|held)", rest_of_first)
    promoted = "v1 promoted" in rest_of_first
    assert rows[2][0] == ("v1" if promoted else "rules")
    assert (home / "simulate-server.log").exists()
