"""Every eligible therapist of the logged intakes, scored the way the served model orders them.

The serving engine's own eligibility, safety triage and phased scoring are used
(:meth:`matcher.engine.Matcher.score_batch`), so a model policy is evaluated on the lists it
would really show; the feature matrix is kept for baselines (rules, random) and the outcome model.
A training job has already scored the held-out pairs: :func:`heldout_candidates` reads the same
candidate set off that scoring (no second engine run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.config import MatcherConfig
from features.dataset import Dataset
from features.encoding import TherapistPool
from matcher.engine import Matcher
from matcher.model import MatchModel
from matcher.ranking import serving_order, top_per_group
from matcher.triage import triage
from training.heldout import Candidates, HeldOut
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


def candidate_set(
    dataset: Dataset,
    feedback: LoggedFeedback,
    model: MatchModel,
    config: MatcherConfig | None = None,
) -> CandidateSet:
    """Score every eligible therapist of each logged intake with ``model`` through the engine
    (serving knobs ``config``, the defaults without)."""
    matcher = Matcher(model, dataset.therapists, config)
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


@dataclass(frozen=True)
class ScoredCandidates:
    """A model's candidate set with its two predictions of each candidate pair."""

    candidates: CandidateSet
    benefit: F64
    engagement: F64


def heldout_scoring(
    heldout: HeldOut,
    feedback: LoggedFeedback,
    model: MatchModel | None = None,
    *,
    num_threads: int = 1,
) -> Candidates:
    """Scored eligible pairs of every intake of ``feedback`` (the logs of ``heldout.valid``), by
    ``model`` (default: the model that scored ``heldout``): ``heldout``'s own scored pairs,
    re-featurised once by ``model``'s pipeline when it is another model."""
    if set(feedback.intake_ids.astype(str)) - set(heldout.candidates.intakes["intake_id"]):
        raise ValueError("feedback holds intakes the held-out scoring did not evaluate")
    if model is None or model is heldout.model:
        return heldout.candidates
    return heldout.candidates.rescored(model, heldout.pool, num_threads=num_threads)


def scored_candidate_set(
    scored: Candidates,
    feedback: LoggedFeedback,
    pool: TherapistPool,
    model: MatchModel,
    config: MatcherConfig | None = None,
) -> ScoredCandidates:
    """:func:`candidate_set` from pairs ``model`` already scored (``scored``, over ``pool``):
    :meth:`~matcher.engine.Matcher.score_batch` step by step on the intakes of ``feedback`` in
    its order — phase one keeps each intake's ``phase_one_size`` best by the prefilter (when
    some intake has more), the model score is re-ranked load-aware and with the severe
    in-person boost (``tests/test_heldout.py`` checks the result against
    :func:`candidate_set`)."""
    config = config or MatcherConfig()
    index = pd.Index(feedback.intake_ids.astype(str))
    group = index.get_indexer(scored.intake_ids.astype(str))
    # The pairs are listed by (intake, therapist row); a stable sort on the feedback's intake
    # order gives the engine's order.
    order = np.flatnonzero(group >= 0)
    order = order[np.argsort(group[order], kind="stable")]
    group = group[order].astype(np.int64)
    therapist = scored.pairs.therapist_idx[order]
    severe = scored.routes.severe[scored.pairs.intake_idx][order]
    x = scored.x[order]
    benefit = scored.predictions.benefit[order]
    engagement = scored.predictions.engagement[order]
    score = scored.predictions.score[order]
    counts = np.bincount(group, minlength=feedback.n)
    if model.prefilter is not None and counts.max(initial=0) > config.phase_one_size:
        keep = top_per_group(group, model.prefilter.score(x), config.phase_one_size)
        group, therapist, severe, x = group[keep], therapist[keep], severe[keep], x[keep]
        benefit, engagement, score = benefit[keep], engagement[keep], score[keep]
    adjusted = serving_order(score, therapist, severe, pool, config)
    candidates = CandidateSet(group, pool.ids[therapist].astype(object), x, adjusted)
    return ScoredCandidates(candidates, benefit, engagement)


def heldout_candidates(
    heldout: HeldOut,
    feedback: LoggedFeedback,
    model: MatchModel | None = None,
    *,
    config: MatcherConfig | None = None,
    num_threads: int = 1,
) -> ScoredCandidates:
    """:func:`candidate_set` of ``model`` (default: the model that scored ``heldout``) on the
    held-out logs, read off the held-out scoring (:func:`heldout_scoring`,
    :func:`scored_candidate_set`)."""
    scored = heldout_scoring(heldout, feedback, model, num_threads=num_threads)
    chosen = _scoring_model(heldout, model)
    return scored_candidate_set(scored, feedback, heldout.pool, chosen, config)


def _scoring_model(heldout: HeldOut, model: MatchModel | None) -> MatchModel:
    """``model``, or the model that scored ``heldout``."""
    if model is not None:
        return model
    if heldout.model is None:
        raise ValueError("the held-out scoring does not say which model made it")
    return heldout.model


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
    "ScoredCandidates",
    "candidate_set",
    "heldout_candidates",
    "heldout_scoring",
    "logged_features",
    "logged_intakes",
    "logged_outcome",
    "outcome_prediction",
    "scored_candidate_set",
]
