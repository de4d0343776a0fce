"""Every eligible therapist of the logged intakes, scored the way the served model orders them.

The serving engine's own eligibility, safety triage and phased scoring are used
(:meth:`matcher.engine.Matcher.score_batch`), so a model policy is evaluated on the lists it
would really show; the feature matrix is kept for baselines (rules, random) and the outcome model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.encoding import TherapistPool
from matcher.engine import Matcher
from matcher.model import MatchModel
from matcher.triage import triage
from training.matrices import logged_rows
from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.targets import TargetLists

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True)
class CandidateSet:
    """Eligible (intake, therapist) pairs of the logged intakes with features and serving order."""

    group: I64
    """Intake index into ``LoggedFeedback.intake_ids``."""
    therapist_ids: Obj
    x: F32
    serving_score: F64
    """The engine's ordering score (model score after load-aware and severity re-ranking)."""

    def lists(self, score: F64, k: int) -> TargetLists:
        """The top-``k`` lists of a policy scoring these candidates with ``score``."""
        return TargetLists.top_k(self.group, self.therapist_ids, score, k)


def logged_intakes(dataset: Dataset, feedback: LoggedFeedback) -> pd.DataFrame:
    """The intakes that have a logged list, in ``feedback.intake_ids`` order."""
    index = pd.Index(dataset.intakes["intake_id"].astype(str))
    return dataset.intakes.iloc[index.get_indexer(feedback.intake_ids.astype(str))]


def candidate_set(dataset: Dataset, feedback: LoggedFeedback, model: MatchModel) -> CandidateSet:
    """Score every eligible therapist of each logged intake with ``model`` through the engine."""
    matcher = Matcher(model, dataset.therapists)
    batch = matcher.pool.encode_intakes(logged_intakes(dataset, feedback))
    _, scored = matcher.score_batch(batch, triage(batch))
    group = pd.Index(feedback.intake_ids.astype(str)).get_indexer(
        batch.ids[scored.pairs.intake_idx].astype(str)
    )
    return CandidateSet(
        group.astype(np.int64),
        matcher.pool.ids[scored.pairs.therapist_idx].astype(object),
        scored.x,
        scored.adjusted,
    )


def outcome_prediction(model: MatchModel, x: F32) -> F64:
    """q̂ ∝ P(books when shown first) × P(good outcome | starts): reward once examined."""
    return np.asarray(model.benefit(x) * model.engagement_probability(x), dtype=np.float64)


def logged_features(dataset: Dataset, model: MatchModel) -> F32:
    """The model's feature matrix of every logged row (in the interactions table's order)."""
    rows = logged_rows(model.pipeline, dataset, TherapistPool.from_frame(dataset.therapists))
    return np.asarray(rows.x, dtype=np.float32)


def logged_outcome(dataset: Dataset, model: MatchModel) -> F64:
    """q̂ of every logged row (in the interactions table's order)."""
    return outcome_prediction(model, logged_features(dataset, model))


__all__ = [
    "CandidateSet",
    "candidate_set",
    "logged_features",
    "logged_intakes",
    "logged_outcome",
    "outcome_prediction",
]
