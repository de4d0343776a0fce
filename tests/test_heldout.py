"""The job's shared artefacts give what the separate computations gave.

Out-of-fold rows (profile columns once, track-record columns per fold) equal transforming each
fold's rows in full with that fold's record; the fairness inputs and the promotion gate's
candidate sets derived from the held-out pairs evaluation scored equal the engine's own answers
to the same intakes, and the gate's evidence is what it is when the gate scores everything itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from features.dataset import Dataset
from features.encoding import IntakeBatch, TherapistPool
from features.outcomes import has_outcome
from features.pipeline import FeaturePipeline
from matcher.engine import MatcherConfig
from matcher.model import MatchModel
from synth import SyntheticWorld, WorldConfig, generate_world
from training.config import TrainConfig
from training.fairness import heldout_inputs, offline_inputs
from training.fit import fit_boosters
from training.heldout import HeldOut, Predictions, logged_predictions_of, score_holdout
from training.matrices import Folds, LoggedRows, logged_rows
from training.offpolicy.candidates import candidate_set, heldout_candidates
from training.offpolicy.feedback import LoggedFeedback
from training.promotion import gather_evidence
from training.splits import intake_folds, subset, time_split

CONFIG = TrainConfig(folds=3, max_rounds=120, baselines=False)


@dataclass
class Fitted:
    world: SyntheticWorld
    train: Dataset
    pool: TherapistPool
    batch: IntakeBatch
    pipeline: FeaturePipeline
    rows: LoggedRows
    model: MatchModel
    heldout: HeldOut


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    world = generate_world(WorldConfig(n_therapists=70, n_intakes=1200, seed=5))
    ds = world.dataset
    train_ids, valid_ids = time_split(ds, CONFIG.holdout_fraction, seed=CONFIG.seed)
    train, valid = subset(ds, train_ids), subset(ds, valid_ids)
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    pipeline = FeaturePipeline().fit(train, pool, batch)
    rows = logged_rows(pipeline, train, pool, folds=CONFIG.folds, seed=CONFIG.seed, batch=batch)
    model, _ = fit_boosters(rows, CONFIG, pipeline)
    heldout = score_holdout(model, valid, pool, truth=world.truth, batch=batch)
    return Fitted(world, train, pool, batch, pipeline, rows, model, heldout)


def test_out_of_fold_rows_equal_full_transforms_per_fold(fitted: Fitted) -> None:
    train, pool, pipe = fitted.train, fitted.pool, fitted.pipeline
    own = FeaturePipeline().fit(train)  # encodes everything itself
    alone = logged_rows(own, train, TherapistPool.from_frame(train.therapists), folds=3)
    np.testing.assert_array_equal(alone.x, fitted.rows.x)

    inter = train.interactions
    fold = intake_folds(inter["intake_id"], 3, CONFIG.seed)
    table = pipe.outcome_table(train, pool)
    outcome_fold = fold[has_outcome(inter)]
    for f in range(3):
        other = outcome_fold != f
        record = table.take(other).fit_track_record(pipe.records)
        rows = fold == f
        full = pipe.transform(fitted.batch, pool, fitted.rows.pairs.take(rows), track_record=record)
        np.testing.assert_array_equal(full, fitted.rows.x[rows])


@pytest.mark.parametrize("phase_one_size", [300, 3])
def test_heldout_fairness_inputs_equal_the_engines_answers(
    fitted: Fitted, phase_one_size: int
) -> None:
    config = MatcherConfig(phase_one_size=phase_one_size)
    mine = heldout_inputs(
        fitted.heldout, fitted.model, fitted.rows.outcomes.therapist_ids, matcher_config=config
    )
    engine = offline_inputs(
        fitted.model, fitted.world.dataset, truth=fitted.world.truth, matcher_config=config
    )
    key = ["intake_id", "therapist_id"]
    for name in ("impressions", "eligible"):
        a = getattr(mine, name).astype({"intake_id": str, "therapist_id": str})
        b = getattr(engine, name).astype({"intake_id": str, "therapist_id": str})
        assert b is not None and len(a) == len(b) > 0
        a, b = a.sort_values(key, ignore_index=True), b.sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(a[key], b[key])
        for column in set(a.columns) - set(key):
            np.testing.assert_allclose(
                a[column].to_numpy(float), b[column].to_numpy(float), atol=1e-6, err_msg=column
            )
    columns = ["intake_id", "status", "n_eligible"]
    pd.testing.assert_frame_equal(
        mine.intakes[columns].reset_index(drop=True),
        engine.intakes[columns].reset_index(drop=True),
        check_dtype=False,
    )
    assert mine.intakes["status"].nunique() >= 2
    assert mine.therapists["n_outcomes"].tolist() == engine.therapists["n_outcomes"].tolist()
    if phase_one_size < 300:  # the phase-one cut happened
        assert len(mine.eligible) < len(fitted.heldout.candidates.pairs)


@pytest.mark.parametrize(("phase_one_size", "max_intakes"), [(300, None), (3, 100)])
def test_candidate_sets_read_off_the_heldout_scoring_equal_the_engines(
    fitted: Fitted, phase_one_size: int, max_intakes: int | None
) -> None:
    """The promotion gate's candidate sets come from the job's held-out scoring (of the evaluated
    subset of held-out intakes): the candidate's and a champion's (another pipeline,
    re-featurised) equal the engine's own scoring of the same intakes."""
    config = MatcherConfig(phase_one_size=phase_one_size)
    heldout = score_holdout(
        fitted.model, fitted.heldout.valid, fitted.pool, batch=fitted.batch, max_intakes=max_intakes
    )
    valid = heldout.valid
    feedback = LoggedFeedback.from_dataset(valid)
    other = FeaturePipeline(text_dims=8, seed=3).fit(fitted.train, fitted.pool, fitted.batch)
    other_rows = logged_rows(other, fitted.train, fitted.pool, batch=fitted.batch)
    champion, _ = fit_boosters(other_rows, CONFIG.with_overrides(max_rounds=40), other)
    for model in (fitted.model, champion):
        mine = heldout_candidates(heldout, feedback, model, config=config)
        engine = candidate_set(valid, feedback, model, config)
        np.testing.assert_array_equal(mine.candidates.group, engine.group)
        np.testing.assert_array_equal(
            mine.candidates.therapist_ids.astype(str), engine.therapist_ids.astype(str)
        )
        np.testing.assert_array_equal(mine.candidates.x, engine.x)
        np.testing.assert_array_equal(mine.candidates.serving_score, engine.serving_score)
        np.testing.assert_array_equal(mine.benefit, model.benefit(engine.x))
        np.testing.assert_array_equal(mine.engagement, model.engagement_probability(engine.x))
    if max_intakes is not None:  # only the evaluated subset's logs are read
        assert feedback.n <= len(valid.intakes) == max_intakes < len(fitted.heldout.valid.intakes)
        with pytest.raises(ValueError, match="did not evaluate"):
            heldout_candidates(heldout, LoggedFeedback.from_dataset(fitted.heldout.valid))
    if phase_one_size < 300:  # the phase-one cut happened
        assert np.bincount(engine.group).max() == phase_one_size


@pytest.mark.parametrize("with_truth", [True, False])
def test_the_gate_on_the_heldout_scoring_decides_as_when_it_scores_everything_itself(
    fitted: Fitted, with_truth: bool
) -> None:
    """Reusing the job's held-out scoring changes no figure of the promotion evidence, before
    any champion (rules baseline) and against a champion."""
    truth = fitted.world.truth if with_truth else None
    other = FeaturePipeline(text_dims=8, seed=3).fit(fitted.train, fitted.pool, fitted.batch)
    other_rows = logged_rows(other, fitted.train, fitted.pool, batch=fitted.batch)
    champion, _ = fit_boosters(other_rows, CONFIG.with_overrides(max_rounds=40), other)
    ds = fitted.world.dataset
    for against in (None, champion):
        scored = gather_evidence(
            fitted.model, against, ds, CONFIG, truth=truth, heldout=fitted.heldout
        )
        alone = gather_evidence(fitted.model, against, ds, CONFIG, truth=truth)
        assert scored == alone
        assert scored.champion is not None and np.isfinite(scored.champion)


def test_logged_predictions_read_off_the_candidates_equal_predicting_them(fitted: Fitted) -> None:
    """The held-out logged rows' predictions are taken from the scored candidate pairs where the
    pair is one of them, and predicted otherwise: either way they are the model's own."""
    heldout = fitted.heldout
    direct = Predictions.of(fitted.model, heldout.logged.x)
    np.testing.assert_array_equal(heldout.logged_predictions.benefit, direct.benefit)
    np.testing.assert_array_equal(heldout.logged_predictions.engagement, direct.engagement)
    np.testing.assert_array_equal(heldout.logged_predictions.score, direct.score)
    # with half the candidate pairs gone, the logged pairs they held are predicted instead
    cands = heldout.candidates
    keep = np.arange(len(cands.pairs)) % 2 == 0
    fewer = dataclasses.replace(
        cands,
        pairs=cands.pairs.take(keep),
        x=cands.x[keep],
        predictions=Predictions(
            cands.predictions.benefit[keep],
            cands.predictions.engagement[keep],
            cands.predictions.score[keep],
        ),
    )
    partly = logged_predictions_of(fitted.model, heldout.logged, fewer)
    np.testing.assert_array_equal(partly.benefit, direct.benefit)
    np.testing.assert_array_equal(partly.engagement, direct.engagement)


def test_blanked_therapists_look_new_in_their_fold_only(fitted: Fitted) -> None:
    """With ``blank`` each fold's record drops a random share of therapists' outcomes: they
    get the zero-history prior in that fold (count 0), and the other folds still know them."""
    inter = fitted.train.interactions
    outcomes = fitted.rows.outcomes
    plain = Folds.fit(inter, outcomes, 3, CONFIG.seed, fitted.pipeline.records)
    blanked = Folds.fit(inter, outcomes, 3, CONFIG.seed, fitted.pipeline.records, blank=0.3)
    np.testing.assert_array_equal(plain.fold, blanked.fold)
    ids = fitted.pool.ids
    hidden_per_fold = []
    for before, after in zip(plain.records, blanked.records, strict=True):
        n_before, n_after = before.align(ids)["n"], after.align(ids)["n"]
        hidden = (n_before > 0) & (n_after == 0)
        assert np.all((n_after == n_before) | hidden)
        hidden_per_fold.append(hidden)
    share = np.mean(
        [
            h.sum() / max((p.align(ids)["n"] > 0).sum(), 1)
            for h, p in zip(hidden_per_fold, plain.records, strict=True)
        ]
    )
    assert 0.15 < share < 0.45
    assert not np.all(hidden_per_fold[0] == hidden_per_fold[1])
    again = Folds.fit(inter, outcomes, 3, CONFIG.seed, fitted.pipeline.records, blank=0.3)
    for a, b in zip(blanked.records, again.records, strict=True):
        np.testing.assert_array_equal(a.align(ids)["n"], b.align(ids)["n"])
