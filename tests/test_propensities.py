"""The synthetic logging policy's true propensities (issue 8, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.dataset import load_dataset
from matcher.ranking import rank_within_groups
from synth import WorldConfig, generate_world
from synth.propensities import length_survival, logging_propensities, rank_probabilities


def test_rank_probabilities_match_brute_force_replays() -> None:
    rng = np.random.default_rng(3)
    group = np.repeat(np.arange(3), [4, 6, 2])
    score = rng.normal(0, 1, 12)
    estimate = rank_probabilities(group, score, 0.7, 5, draws=2000, rng=rng)
    counts = np.zeros((12, 5))
    for _ in range(20000):
        rank = rank_within_groups(group, score + 0.7 * rng.normal(0, 1, 12))
        top = rank < 5
        counts[np.flatnonzero(top), rank[top]] += 1
    assert np.abs(estimate - counts / 20000).max() < 0.02


def test_each_position_is_filled_with_its_length_probability() -> None:
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(40), 12)
    mu = logging_propensities(
        group,
        rng.normal(0, 1, len(group)),
        noise=0.5,
        exploration=0.1,
        list_min=5,
        list_max=10,
        draws=50,
        rng=rng,
    )
    per_position = np.array([np.bincount(group, weights=mu[:, k]) for k in range(10)]).T
    assert np.allclose(per_position, length_survival(5, 10)[None, :], atol=1e-9)
    assert (mu > 0).all()


@pytest.fixture(scope="module")
def small_world_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = generate_world(WorldConfig(n_therapists=80, n_intakes=400, seed=5))
    return world.write(tmp_path_factory.mktemp("world"))


def test_logged_rows_carry_valid_propensities_and_policy(small_world_folder: Path) -> None:
    rows = load_dataset(small_world_folder).interactions
    p = rows["propensity"].to_numpy(dtype=float)
    shown = rows["shown_propensity"].to_numpy(dtype=float)
    assert ((p > 0) & (p <= 1)).all()
    assert (shown >= p - 1e-12).all()
    assert set(rows["policy"]) == {"synth-heuristic", "explore"}
    # one arm per list
    assert (rows.groupby("intake_id")["policy"].nunique() == 1).all()


def test_explored_lists_have_the_uniform_floor(small_world_folder: Path) -> None:
    rows = load_dataset(small_world_folder).interactions
    assert rows["propensity"].min() >= 0.1 / 80 * length_survival(5, 10)[-1] - 1e-12
