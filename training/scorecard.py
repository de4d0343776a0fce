"""The evaluation table: the model side by side with baselines (and, with a world's truth, oracles).

Logged metrics (NDCG@k) rank each validation intake's logged list. Truth metrics rank every
eligible therapist of each non-crisis validation intake and read the world's true P(good outcome):
U@k, and uplift captured = (U(model) − U(random)) / (U(oracle) − U(random)) (SPEC §5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.encoding import TherapistPool
from features.pipeline import FeaturePipeline
from matcher.eligibility import eligible_pairs
from matcher.triage import Route, triage
from training.evaluation import ndcg_at_k, random_topk_mean, topk_mean, uplift_captured
from training.labels import LabelConfig, graded_label
from training.matrices import logged_rows

Scorer = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float64]]


class Truth(Protocol):
    """What the scorecard needs of a synthetic world's truth."""

    def p_good(
        self,
        intakes: pd.DataFrame,
        therapists: pd.DataFrame,
        intake_ids: npt.NDArray[Any],
        therapist_ids: npt.NDArray[Any],
        *,
        profile_only: bool = False,
    ) -> npt.NDArray[np.float64]: ...


@dataclass(frozen=True)
class Candidates:
    """Every eligible (intake, therapist) pair of the validation intakes, with features."""

    group: npt.NDArray[np.int64]
    x: npt.NDArray[np.float32]
    intake_ids: npt.NDArray[Any]
    therapist_ids: npt.NDArray[Any]


def candidate_set(
    pipeline: FeaturePipeline,
    valid: Dataset,
    pool: TherapistPool,
    *,
    max_intakes: int | None = None,
    seed: int = 0,
) -> Candidates:
    """Eligible pairs of the non-crisis validation intakes, featurised with the past record.

    ``max_intakes`` caps the intakes scored (a seeded random subset) to bound evaluation cost.
    """
    intakes = valid.intakes
    if max_intakes is not None and len(intakes) > max_intakes:
        keep = np.random.default_rng(seed).choice(len(intakes), max_intakes, replace=False)
        intakes = intakes.iloc[np.sort(keep)]
    batch = pool.encode_intakes(intakes)
    routes = triage(batch).route
    elig = eligible_pairs(batch, pool)
    pairs = elig.pairs.take(routes[elig.pairs.intake_idx] != Route.CRISIS)
    x = pipeline.transform(batch, pool, pairs)
    return Candidates(
        pairs.intake_idx, x, batch.ids[pairs.intake_idx], pool.ids[pairs.therapist_idx]
    )


def scorecard(
    scorers: Mapping[str, Scorer],
    pipeline: FeaturePipeline,
    valid: Dataset,
    pool: TherapistPool,
    *,
    truth: Truth | None = None,
    top_k: tuple[int, ...] = (1, 5, 10),
    labels: LabelConfig | None = None,
    max_truth_intakes: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per scorer (plus ``oracle``, ``profile_oracle`` with a truth); metrics as columns."""
    logged = logged_rows(pipeline, valid, pool)
    y = graded_label(valid.interactions, labels)
    table: dict[str, dict[str, float]] = {}
    for name, scorer in scorers.items():
        s = scorer(logged.x)
        table[name] = {f"ndcg_at_{k}": ndcg_at_k(logged.group, y, s, k) for k in top_k}
    if truth is None:
        return pd.DataFrame.from_dict(table, orient="index")
    cand = candidate_set(pipeline, valid, pool, max_intakes=max_truth_intakes, seed=seed)
    p_true = truth.p_good(valid.intakes, valid.therapists, cand.intake_ids, cand.therapist_ids)
    p_profile = truth.p_good(
        valid.intakes, valid.therapists, cand.intake_ids, cand.therapist_ids, profile_only=True
    )
    u_random = random_topk_mean(cand.group, p_true)
    rankings = {name: scorer(cand.x) for name, scorer in scorers.items()}
    rankings["oracle"] = p_true
    rankings["profile_oracle"] = p_profile
    for k in top_k:
        u_oracle = topk_mean(cand.group, p_true, p_true, k)
        for name, s in rankings.items():
            u = topk_mean(cand.group, s, p_true, k)
            row = table.setdefault(name, {})
            row[f"u_at_{k}"] = u
            row[f"uplift_at_{k}"] = uplift_captured(u, u_random, u_oracle)
    table.setdefault("random_expected", {})["u_at_1"] = u_random
    return pd.DataFrame.from_dict(table, orient="index")


__all__ = ["Candidates", "Scorer", "Truth", "candidate_set", "scorecard"]
