"""The held-out intakes a job evaluates: one seeded subset, read by every consumer, while serving
still learns from every held-out outcome."""

from __future__ import annotations

import numpy as np
import pytest

from features.outcomes import has_outcome
from synth import SyntheticWorld, WorldConfig, generate_world
from training.config import TrainConfig
from training.heldout import evaluation_split
from training.job import TrainResult, fit_and_evaluate
from training.splits import subset, time_split

CAP = 40
CONFIG = TrainConfig(folds=2, max_rounds=40, baselines=False, max_eval_intakes=CAP)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return generate_world(WorldConfig(n_therapists=50, n_intakes=900, seed=4))


@pytest.fixture(scope="module")
def result(world: SyntheticWorld) -> TrainResult:
    return fit_and_evaluate(world.dataset, CONFIG, truth=world.truth)


def test_the_split_is_a_seeded_subset_in_time_order(world: SyntheticWorld) -> None:
    _, valid_ids = time_split(world.dataset, 0.2)
    valid = subset(world.dataset, valid_ids)
    split = evaluation_split(valid, CAP, seed=1)
    assert len(split.intakes) == CAP
    order = valid.intakes["intake_id"].tolist()
    picked = split.intakes["intake_id"].tolist()
    assert [order.index(i) for i in picked] == sorted(order.index(i) for i in picked)
    assert set(split.interactions["intake_id"]) <= set(picked)
    assert len(split.interactions) == valid.interactions["intake_id"].isin(picked).sum()
    again = evaluation_split(valid, CAP, seed=1)
    assert again.intakes["intake_id"].tolist() == picked
    other = evaluation_split(valid, CAP, seed=2)
    assert other.intakes["intake_id"].tolist() != picked
    assert evaluation_split(valid, None, seed=1) is valid
    assert evaluation_split(valid, len(valid.intakes), seed=1) is valid


def test_every_consumer_reads_the_same_evaluated_intakes(result: TrainResult) -> None:
    heldout = result.heldout
    assert heldout is not None and heldout.model is not None
    evaluated = set(heldout.valid.intakes["intake_id"])
    assert len(evaluated) == CAP
    assert set(heldout.logged.interactions["intake_id"]) <= evaluated
    assert set(heldout.candidates.intakes["intake_id"]) == evaluated
    assert len(heldout.logged_predictions.benefit) == len(heldout.logged.x)


def test_serving_learns_from_every_outcome_not_only_the_evaluated(
    world: SyntheticWorld, result: TrainResult
) -> None:
    record = result.model.pipeline.track_record_
    outcomes = int(has_outcome(world.dataset.interactions).sum())
    assert int(np.sum(record.n_)) == outcomes
    heldout = result.heldout
    assert heldout is not None
    # the training and evaluated outcomes alone would miss the other held-out intakes' outcomes
    assert result.fit.outcome_rows + len(heldout.logged.outcomes.therapist_ids) < outcomes
