"""The outcome model is the booster and a logistic regression averaged in log-odds: what a saved
model predicts, what its reasons add up to, and what training fits (``outcome_linear_weight``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, logit

from features.dataset import load_dataset
from features.encoding import Pairs, TherapistPool
from features.pipeline import FEATURE_NAMES, MONOTONE
from matcher.model import MatchModel
from training.config import LINEAR_EXCLUDED, TrainConfig
from training.fit import linear_c
from training.job import fit_and_evaluate


@pytest.fixture(scope="module")
def model_and_x(small_world: Path) -> tuple[MatchModel, np.ndarray]:
    """A model trained with the linear half whatever its events per coefficient (the small
    world has too few for the default rule), and pairs of 40 intakes × every therapist."""
    data = load_dataset(small_world)
    config = TrainConfig(folds=3, max_rounds=300, baselines=False, outcome_linear_epv=0.0)
    model = fit_and_evaluate(data, config).model
    pool = TherapistPool.from_frame(data.therapists)
    batch = pool.encode_intakes(data.intakes.head(40))
    i, j = np.meshgrid(np.arange(len(batch)), np.arange(len(pool)), indexing="ij")
    pairs = Pairs(i.ravel().astype(np.int64), j.ravel().astype(np.int64))
    return model, model.pipeline.transform(batch, pool, pairs)


def test_a_trained_model_blends_the_booster_and_the_linear_model(
    model_and_x: tuple[MatchModel, np.ndarray],
) -> None:
    model, x = model_and_x
    assert model.outcome_linear is not None and model.outcome_linear_weight == 0.5
    assert model.outcome_linear.c in TrainConfig().outcome_linear_c
    booster = model.outcome.predict(x, raw_score=True)
    linear = model.outcome_linear.linear(x)
    np.testing.assert_allclose(model.benefit(x), expit(0.5 * booster + 0.5 * linear), rtol=1e-9)
    assert not np.allclose(model.benefit(x), expit(booster))
    # The linear half keeps the booster's monotone signs.
    signs = np.array([MONOTONE.get(n, 0) for n in FEATURE_NAMES])
    assert (signs * model.outcome_linear.coef_[: len(signs)] >= 0).all()
    # It reads the track record only through the two case-mix-adjusted records.
    left_out = [FEATURE_NAMES.index(n) for n in LINEAR_EXCLUDED]
    assert left_out and (model.outcome_linear.coef_[left_out] == 0.0).all()


def test_with_too_few_events_per_coefficient_the_booster_stands_alone(small_model: Path) -> None:
    """The small world's ≈ 600 outcome rows give ≈ 3 events per coefficient (rule: 10)."""
    model = MatchModel.load(small_model)
    assert model.outcome_linear is None


def test_reasons_read_contributions_that_add_up_to_the_blended_log_odds(
    model_and_x: tuple[MatchModel, np.ndarray],
) -> None:
    model, x = model_and_x
    contrib = model.contributions(x)
    assert contrib.shape == (len(x), len(FEATURE_NAMES) + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), logit(model.benefit(x)), atol=1e-6)


def test_a_saved_model_predicts_what_it_did_and_weight_0_is_the_booster_alone(
    model_and_x: tuple[MatchModel, np.ndarray], tmp_path: Path
) -> None:
    model, x = model_and_x
    again = MatchModel.load(model.save(tmp_path / "copy"))
    np.testing.assert_allclose(again.benefit(x), model.benefit(x), rtol=1e-12)
    np.testing.assert_allclose(again.contributions(x), model.contributions(x), atol=1e-12)
    again.outcome_linear_weight = 0.0
    np.testing.assert_allclose(again.benefit(x), model.outcome.predict(x), rtol=1e-12)


def test_the_linear_halfs_penalty_is_chosen_by_held_out_log_loss() -> None:
    """Cross-validated over whole intakes: pure noise gets the strongest penalty of the grid, a
    strong signal the weakest, and above ``outcome_cv_max_rows`` rows the weakest is used
    without fitting folds."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 6)).astype(np.float32)
    group = np.repeat(np.arange(300), 5)
    # The design is not the feature matrix: no per-feature signs or penalty scales.
    bare = {"monotone": False, "outcome_linear_free": (), "outcome_linear_excluded": ()}
    config = TrainConfig(**bare, outcome_linear_c=(0.001, 0.01, 1.0))
    noise = (rng.random(1500) < 0.4).astype(np.float64)
    signal = (2 * x[:, 0] - 2 * x[:, 1] + rng.logistic(size=1500) > 0).astype(np.float64)
    assert linear_c(x, noise, group, config) == 0.001
    assert linear_c(x, signal, group, config) == 1.0
    few = TrainConfig(**bare, outcome_linear_c=(0.001, 0.01), outcome_cv_max_rows=100)
    assert linear_c(x, noise, group, few) == 0.01
