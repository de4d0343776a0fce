"""Honest health and clear failures: a database that takes no writes is not ready, a corrupt one
stops startup in one line naming the file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from api_support import FakeLoader, Service, therapist
from fastapi.testclient import TestClient

from api import create_api_key, create_app, open_database
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


def test_a_read_only_database_is_named_at_startup_and_in_every_refused_write(
    tmp_path: Path, settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Waiting will not make a read-only database writable: the startup log warns, and a write
    answers 503 saying why, without the retry-later hint."""
    path = tmp_path / "ro.db"
    database = open_database(f"sqlite:///{path}")
    with database.session() as session:
        key = create_api_key(session, "ops", ["therapists"])
    database.dispose()
    settings = settings_factory(database_url=f"sqlite:///file:{path}?mode=ro&uri=true")
    with (
        caplog.at_level(logging.WARNING),
        TestClient(create_app(settings, engine_loader=FakeLoader())) as client,
    ):
        response = client.post(
            "/v1/therapists:bulk",
            json={"therapists": [therapist("t1")]},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 503, response.text
    assert "readonly" in response.json()["detail"] and "operator" in response.json()["detail"]
    assert "retry-after" not in response.headers
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("database not writable" in m and "/readyz stays 503" in m for m in warned)


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


def test_a_folder_that_takes_no_new_files_is_named_as_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite says "unable to open database file" for a readable file whose folder refuses its
    -wal and -shm files; the startup error names the folder (root ignores permissions, so the
    refusal is simulated at both places the check touches)."""
    from sqlite3 import dbapi2

    from api.storage import database as storage
    from core.errors import StorageError

    path = tmp_path / "matcher.db"
    open_database(f"sqlite:///{path}").dispose()

    def refusing_connect(*args: object, **kwargs: object) -> dbapi2.Connection:
        raise dbapi2.OperationalError("unable to open database file")

    def refusing_tempfile(*args: object, **kwargs: object) -> object:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(dbapi2, "connect", refusing_connect)
    monkeypatch.setattr(storage.tempfile, "TemporaryFile", refusing_tempfile)
    with pytest.raises(StorageError) as caught:
        storage.check_database(f"sqlite:///{path}")
    message = str(caught.value)
    assert str(path) in message and "unable to open database file" in message
    assert f"the folder {tmp_path} does not take new files" in message
