"""Honest health and clear failures: a database that takes no writes is not ready, a corrupt one
stops startup in one line naming the file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from api_support import FakeLoader, Service
from fastapi.testclient import TestClient

from api import create_app, open_database
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_readyz_not_ready_when_the_database_takes_no_writes(
    tmp_path: Path, settings_factory: Callable[..., Settings]
) -> None:
    path = tmp_path / "ro.db"
    open_database(f"sqlite:///{path}").dispose()
    settings = settings_factory(database_url=f"sqlite:///file:{path}?mode=ro&uri=true")
    with TestClient(create_app(settings, engine_loader=FakeLoader())) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    reasons = response.json()["reasons"]
    assert any(r.startswith("database not writable") and "readonly" in r for r in reasons)


def test_readyz_ready_on_a_writable_database(service: Service) -> None:
    assert service.client.get("/readyz").json()["reasons"] == []


def test_corrupt_database_stops_startup_in_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "matcher.db"
    path.write_bytes(b"this is not a database file at all " * 200)
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", "1"],
        check=False,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MATCHER_HOME": str(tmp_path / "home"),
            "MATCHER_DATABASE_URL": f"sqlite:///{path}",
            "COLUMNS": "300",
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    assert "not a database" in lines[0]
