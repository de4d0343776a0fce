"""Fixtures shared by the engine and training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a private home and MLflow store.

    mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI into the process, so each test pins its
    own store explicitly.
    """
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = tmp_path / "home"
    return Settings(home=home, tracking_uri=f"sqlite:///{home}/mlflow.db")
