"""Offline fairness: a model's matches on the held-out split, as fairness-report inputs.

The engine (:class:`matcher.engine.Matcher`) answers every validation intake exactly as the API
would; its lists become impressions, its per-intake status and eligible counts the intake rows,
and every eligible pair carries the model's predicted benefit as merit (plus the world's true
benefit when the data is synthetic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.dataset import Dataset
from features.outcomes import has_outcome
from matcher.engine import Matcher
from matcher.fairness import FairnessConfig, FairnessInputs, FairnessReport, build_report
from matcher.model import MatchModel
from matcher.triage import Route, triage
from training.scorecard import Truth
from training.splits import subset, time_split


def offline_inputs(
    model: MatchModel,
    dataset: Dataset,
    *,
    truth: Truth | None = None,
    holdout_fraction: float = 0.2,
    top_k: int = 10,
    max_intakes: int | None = 4000,
    seed: int = 0,
) -> FairnessInputs:
    """Fairness inputs from the model's answers to the held-out intakes."""
    train_ids, valid_ids = time_split(dataset, holdout_fraction, seed=seed)
    valid = subset(dataset, valid_ids)
    intakes = valid.intakes
    if max_intakes is not None and len(intakes) > max_intakes:
        keep = np.random.default_rng(seed).choice(len(intakes), max_intakes, replace=False)
        intakes = intakes.iloc[np.sort(keep)].reset_index(drop=True)
    matcher = Matcher(model, dataset.therapists)
    results = matcher.match_frame(intakes, top_k=top_k)
    shown = pd.DataFrame(
        [
            {
                "intake_id": r.intake_id,
                "therapist_id": m.therapist_id,
                "position": m.rank,
                "score": m.predicted_benefit if m.predicted_benefit is not None else m.score,
            }
            for r in results
            for m in r.matches
        ],
        columns=["intake_id", "therapist_id", "position", "score"],
    )
    status = pd.DataFrame(
        {
            "intake_id": [r.intake_id for r in results],
            "status": [r.status.value for r in results],
            "n_eligible": [r.eligible for r in results],
        }
    )
    batch = matcher.pool.encode_intakes(intakes)
    _, scored = matcher.score_batch(batch, triage(batch))
    keep = triage(batch).route[scored.pairs.intake_idx] != Route.CRISIS
    eligible = pd.DataFrame(
        {
            "intake_id": batch.ids[scored.pairs.intake_idx[keep]],
            "therapist_id": matcher.pool.ids[scored.pairs.therapist_idx[keep]],
            "merit": scored.score[keep],
        }
    )
    if truth is not None and len(eligible):
        eligible["true_benefit"] = truth.p_good(
            intakes, dataset.therapists, eligible["intake_id"], eligible["therapist_id"]
        )
        merged = shown.merge(eligible, on=["intake_id", "therapist_id"], how="left")
        shown["true_benefit"] = merged["true_benefit"].to_numpy()
    history = subset(dataset, train_ids).interactions
    outcomes = history.loc[has_outcome(history), "therapist_id"].value_counts()
    therapists = dataset.therapists.assign(
        n_outcomes=dataset.therapists["therapist_id"].map(outcomes).fillna(0).astype(int)
    )
    return FairnessInputs(
        intakes=intakes.merge(status, on="intake_id", how="left"),
        therapists=therapists,
        impressions=shown,
        eligible=eligible,
    )


def offline_report(
    model: MatchModel,
    dataset: Dataset,
    *,
    truth: Truth | None = None,
    config: FairnessConfig | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> FairnessReport:
    """The fairness report of a model on the held-out split."""
    inputs = offline_inputs(
        model, dataset, truth=truth, holdout_fraction=holdout_fraction, seed=seed
    )
    return build_report(inputs, config)


__all__ = ["offline_inputs", "offline_report"]
