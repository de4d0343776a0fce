"""Fixtures shared by the engine and training tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import Settings

RUN_SLOW = bool(os.environ.get("CI") or os.environ.get("MATCHER_SLOW_TESTS"))
"""Tests marked ``slow`` (the longest end-to-end ones) run in CI (``CI=true``) or with
``MATCHER_SLOW_TESTS=1``; a local ``make test`` skips them to stay within a few minutes."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``slow`` tests outside CI unless asked for."""
    if RUN_SLOW:
        return
    skip = pytest.mark.skip(reason="slow: runs in CI, or set MATCHER_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a private home and MLflow store.

    mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI into the process, so each test pins its
    own store explicitly.
    """
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = tmp_path / "home"
    return Settings(home=home, tracking_uri=f"sqlite:///{home}/mlflow.db")


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic world (tables + truth), generated once per test session."""
    from synth import WorldConfig, generate_world

    folder = tmp_path_factory.mktemp("small-world")
    return generate_world(WorldConfig(n_therapists=80, n_intakes=1500, seed=11)).write(folder)


@pytest.fixture(scope="session")
def small_model(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model trained once on :func:`small_world` (no MLflow), saved as a model folder:
    what ``MATCHER_MODEL_URI`` may point at, and what real-engine tests serve."""
    from features.dataset import load_dataset
    from matcher.fairness import FairnessConfig
    from training.config import TrainConfig
    from training.job import fit_and_evaluate

    config = TrainConfig(
        folds=3,
        max_rounds=300,
        baselines=False,
        fairness=FairnessConfig(n_bootstrap=20, min_group_size=5),
    )
    result = fit_and_evaluate(load_dataset(small_world), config)
    result.model.version = "small/1"
    return result.model.save(tmp_path_factory.mktemp("small-model") / "model")
