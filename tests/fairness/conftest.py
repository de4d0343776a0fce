"""Shared fixtures: the synthetic world and a report built from it (small bootstrap)."""

from __future__ import annotations

import pytest
from fairness_world import synthetic_inputs

from matcher.fairness import FairnessConfig, FairnessInputs, FairnessReport, build_report

N_BOOT = 60


@pytest.fixture(scope="session")
def world() -> FairnessInputs:
    return synthetic_inputs(n_intakes=700, n_therapists=160)


@pytest.fixture(scope="session")
def config() -> FairnessConfig:
    return FairnessConfig(n_bootstrap=N_BOOT, seed=3)


@pytest.fixture(scope="session")
def report(world: FairnessInputs, config: FairnessConfig) -> FairnessReport:
    return build_report(world, config, generated_at="2026-01-01T00:00:00+00:00")
