"""The held-out split, scored once: what evaluation, the fairness report and off-policy
evaluation all read.

:func:`score_holdout` featurises and predicts two sets of pairs a single time:

- the logged rows of the evaluated held-out intakes (NDCG on logged labels, the off-policy
  estimators' logged lists), and
- every eligible (intake, therapist) pair of the non-crisis ones, with the world's true benefit
  when there is a truth (U@k, uplift captured, and the fairness report's merit and served lists).

The evaluated intakes are a seeded subset of at most ``max_intakes`` held-out intakes
(:func:`evaluation_split`): prediction is the cost that grows with them.

The model's benefit and engagement predictions of both matrices are kept, so no consumer predicts
the boosters again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.ids import positions
from features.dataset import Dataset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from matcher.eligibility import Eligibility, eligible_pairs
from matcher.model import MatchModel
from matcher.triage import Route, Triage, triage
from training.matrices import LoggedRows, logged_rows
from training.splits import subset

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


class Truth(Protocol):
    """What evaluation needs of a synthetic world's truth."""

    def p_good(
        self,
        intakes: pd.DataFrame,
        therapists: pd.DataFrame,
        intake_ids: npt.NDArray[Any],
        therapist_ids: npt.NDArray[Any],
        *,
        profile_only: bool = False,
    ) -> npt.NDArray[np.float64]: ...

    def pair_p_good(
        self, batch: IntakeBatch, pool: TherapistPool, pairs: Pairs
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """True and profile-only P(good) of pairs encoded against ``pool``."""
        ...


@dataclass(frozen=True)
class Predictions:
    """The model's two predictions of one feature matrix, and its combined score."""

    benefit: F64
    engagement: F64
    score: F64

    @classmethod
    def of(cls, model: MatchModel, x: F32, *, num_threads: int = 1) -> Predictions:
        """Predict each booster once (per-row results do not depend on ``num_threads``)."""
        benefit = model.benefit(x, num_threads=num_threads)
        engagement = model.engagement_probability(x, num_threads=num_threads)
        return cls(benefit, engagement, model.combine(benefit, engagement))


@dataclass(frozen=True)
class Candidates:
    """Every eligible pair of the non-crisis held-out intakes (``intakes``, time order)."""

    intakes: pd.DataFrame
    batch: IntakeBatch
    routes: Triage
    eligibility: Eligibility
    pairs: Pairs
    x: F32
    predictions: Predictions
    p_true: F64 | None = None
    """The world's true P(good outcome) of each pair (with a truth)."""
    p_profile: F64 | None = None
    """The same from the profiles alone (the profile-only oracle)."""

    @property
    def group(self) -> npt.NDArray[np.int64]:
        """Query group (intake row in ``batch``) of each pair."""
        return self.pairs.intake_idx

    @property
    def intake_ids(self) -> npt.NDArray[Any]:
        """Intake id of each pair."""
        return self.batch.ids[self.pairs.intake_idx]

    def rescored(
        self, model: MatchModel, pool: TherapistPool, *, num_threads: int = 1
    ) -> Candidates:
        """The same pairs featurised by another model's pipeline and predicted by its boosters
        (e.g. the champion, compared on the candidate's held-out pairs)."""
        x = model.pipeline.transform(self.batch, pool, self.pairs)
        predictions = Predictions.of(model, x, num_threads=num_threads)
        return dataclasses.replace(self, x=x, predictions=predictions)


@dataclass(frozen=True)
class HeldOut:
    """The evaluated held-out intakes scored once by one model."""

    valid: Dataset
    """The evaluation split (:func:`evaluation_split` of the held-out split)."""
    pool: TherapistPool
    logged: LoggedRows
    logged_predictions: Predictions
    candidates: Candidates
    model: MatchModel | None = None
    """The model that scored it (its pipeline fitted on the training split: past track
    records only)."""
    batch: IntakeBatch | None = None
    """The encoding of (at least) every held-out intake the scoring used, when it was given
    one: other models' pairs can be featurised on it (:func:`score_candidates`)."""


def evaluation_split(valid: Dataset, max_intakes: int | None, seed: int) -> Dataset:
    """The held-out intakes evaluated, with their logged rows: a seeded subset of at most
    ``max_intakes`` (all when None), in their original (time) order; a split already within
    the cap is returned as it is."""
    intakes = valid.intakes
    if max_intakes is None or len(intakes) <= max_intakes:
        return valid
    keep = np.random.default_rng(seed).choice(len(intakes), max_intakes, replace=False)
    return subset(valid, intakes["intake_id"].iloc[np.sort(keep)].astype(str))


def score_candidates(
    model: MatchModel,
    pool: TherapistPool,
    intakes: pd.DataFrame,
    *,
    truth: Truth | None = None,
    batch: IntakeBatch | None = None,
    num_threads: int = 1,
) -> Candidates:
    """Featurise and predict every eligible pair of the non-crisis ``intakes`` (kept in their
    order) once; with ``truth``, their true and profile-only P(good) too.

    ``batch`` is an encoding of (at least) these intakes against ``pool`` (the job's one
    encoding); without it they are encoded here. Each pair's features and predictions depend on
    that pair alone, so scoring intakes in several calls gives what one call gives.
    """
    pipeline = model.pipeline
    if batch is None:
        sub, text = pool.encode_intakes(intakes), None
    else:
        rows = batch.rows_of(intakes["intake_id"])
        sub, text = batch.take(rows), pipeline.intake_text(batch)[rows]
    routes = triage(sub)
    elig = eligible_pairs(sub, pool)
    pairs = elig.pairs.take(routes.route[elig.pairs.intake_idx] != Route.CRISIS)
    model.expect(len(pairs))
    x = pipeline.transform(sub, pool, pairs, intake_text=text)
    p_true = p_profile = None
    if truth is not None:
        p_true, p_profile = truth.pair_p_good(sub, pool, pairs)
    return Candidates(
        intakes,
        sub,
        routes,
        elig,
        pairs,
        x,
        Predictions.of(model, x, num_threads=num_threads),
        p_true,
        p_profile,
    )


def score_holdout(
    model: MatchModel,
    valid: Dataset,
    pool: TherapistPool,
    *,
    truth: Truth | None = None,
    batch: IntakeBatch | None = None,
    max_intakes: int | None = 4000,
    seed: int = 0,
    num_threads: int = 1,
) -> HeldOut:
    """Featurise and predict the logged rows and eligible pairs of the evaluated held-out
    intakes (:func:`evaluation_split` of ``valid``) once.

    ``batch`` is an encoding of (at least) the held-out intakes against ``pool`` (the job's
    one encoding); without it they are encoded here. Features use the model's pipeline as
    fitted on the training split (past track records only); the boosters predict with
    ``num_threads`` threads.
    """
    valid = evaluation_split(valid, max_intakes, seed)
    logged = logged_rows(model.pipeline, valid, pool, batch=batch)
    candidates = score_candidates(
        model, pool, valid.intakes, truth=truth, batch=batch, num_threads=num_threads
    )
    logged_predictions = logged_predictions_of(model, logged, candidates, num_threads=num_threads)
    return HeldOut(valid, pool, logged, logged_predictions, candidates, model, batch)


def logged_predictions_of(
    model: MatchModel, logged: LoggedRows, candidates: Candidates, *, num_threads: int = 1
) -> Predictions:
    """``model``'s predictions of the logged rows: read off the scored candidate pairs where the
    logged pair is one of them (same pair, same pipeline: the same features), predicted for the
    others only (a logged therapist no longer eligible, a crisis intake's list)."""
    known = np.r_[logged.pairs.therapist_idx, candidates.pairs.therapist_idx]
    n_pool = int(known.max(initial=0)) + 1
    own = candidates.pairs.intake_idx * n_pool + candidates.pairs.therapist_idx
    order = np.argsort(own, kind="stable")
    intake = positions(candidates.batch.ids, logged.batch.ids[logged.pairs.intake_idx])
    wanted = intake * n_pool + logged.pairs.therapist_idx
    found = np.zeros(len(wanted), dtype=bool)
    row = np.zeros(len(wanted), dtype=np.int64)
    if len(own):
        at = np.minimum(np.searchsorted(own[order], wanted), len(own) - 1)
        found = (intake >= 0) & (own[order][at] == wanted)
        row = order[at]
    benefit = np.empty(len(logged.x), dtype=np.float64)
    engagement = np.empty(len(logged.x), dtype=np.float64)
    scored = candidates.predictions
    benefit[found], engagement[found] = scored.benefit[row[found]], scored.engagement[row[found]]
    if (~found).any():
        rest = Predictions.of(model, logged.x[~found], num_threads=num_threads)
        benefit[~found], engagement[~found] = rest.benefit, rest.engagement
    return Predictions(benefit, engagement, model.combine(benefit, engagement))


__all__ = [
    "Candidates",
    "HeldOut",
    "Predictions",
    "Truth",
    "evaluation_split",
    "logged_predictions_of",
    "score_candidates",
    "score_holdout",
]
