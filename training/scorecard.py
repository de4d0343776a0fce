"""The evaluation table: the model side by side with baselines (and, with a world's truth, oracles).

Logged metrics (NDCG@k) rank each validation intake's logged list. Truth metrics rank every
eligible therapist of each non-crisis validation intake and read the world's true P(good outcome):
U@k, and uplift captured = (U(model) − U(random)) / (U(oracle) − U(random)) (SPEC §5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.evaluation import ndcg_at_ks, random_topk_mean, topk_means, uplift_captured
from training.heldout import Candidates, HeldOut, Predictions, Truth
from training.labels import LabelConfig, graded_label

Scorer = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float64]]


def model_scores(predictions: Predictions) -> dict[str, npt.NDArray[np.float64]]:
    """The model, and each of its two predictions alone, from predictions made once."""
    return {
        "model": predictions.score,
        "benefit_only": predictions.benefit,
        "engagement_only": predictions.engagement,
    }


def scorecard(
    heldout: HeldOut,
    scorers: Mapping[str, Scorer] | None = None,
    *,
    top_k: tuple[int, ...] = (1, 5, 10),
    labels: LabelConfig | None = None,
) -> pd.DataFrame:
    """One row per ranker: the model and its two parts (from the held-out predictions), each of
    ``scorers`` (baselines, scored on the same matrices), plus ``oracle`` and
    ``profile_oracle`` when the held-out pairs carry a truth; metrics as columns."""
    scorers = scorers or {}
    logged, cand = heldout.logged, heldout.candidates
    y = graded_label(heldout.valid.interactions, labels)
    logged_scores = model_scores(heldout.logged_predictions)
    logged_scores |= {name: scorer(logged.x) for name, scorer in scorers.items()}
    table: dict[str, dict[str, float]] = {}
    for name, s in logged_scores.items():
        ndcg = ndcg_at_ks(logged.group, y, s, top_k)
        table[name] = {f"ndcg_at_{k}": v for k, v in zip(top_k, ndcg, strict=True)}
    if cand.p_true is None or cand.p_profile is None:
        return pd.DataFrame.from_dict(table, orient="index")
    rankings = model_scores(cand.predictions)
    rankings |= {name: scorer(cand.x) for name, scorer in scorers.items()}
    rankings["oracle"] = cand.p_true
    rankings["profile_oracle"] = cand.p_profile
    u_random, rows = truth_metrics(cand, rankings, top_k)
    for name, row in rows.items():
        table.setdefault(name, {}).update(row)
    table.setdefault("random_expected", {})["u_at_1"] = u_random
    return pd.DataFrame.from_dict(table, orient="index")


def truth_metrics(
    candidates: Candidates,
    rankings: Mapping[str, npt.NDArray[np.float64]],
    top_k: tuple[int, ...],
) -> tuple[float, dict[str, dict[str, float]]]:
    """(U of a random order, per ranker ``u_at_k`` and ``uplift_at_k`` for each k of ``top_k``)
    of scores of the candidate pairs, on their true P(good): uplift = (U(ranker) − U(random)) /
    (U(oracle) − U(random)), each list ranked once for all cutoffs."""
    p_true = candidates.p_true
    if p_true is None:
        raise ValueError("the candidate pairs carry no truth")
    u_random = random_topk_mean(candidates.group, p_true)
    u_oracle = topk_means(candidates.group, p_true, p_true, top_k)
    rows: dict[str, dict[str, float]] = {}
    for name, score in rankings.items():
        row = rows.setdefault(name, {})
        u_at = topk_means(candidates.group, score, p_true, top_k)
        for k, u, best in zip(top_k, u_at, u_oracle, strict=True):
            row[f"u_at_{k}"] = u
            row[f"uplift_at_{k}"] = uplift_captured(u, u_random, best)
    return u_random, rows


__all__ = ["Scorer", "Truth", "model_scores", "scorecard", "truth_metrics"]
