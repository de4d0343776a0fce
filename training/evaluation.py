"""Ranking quality: NDCG on logged labels and uplift captured on a world's truth (SPEC §5).

All functions take flat arrays with a query-group id per row and are vectorised over groups.
Ties in score are broken by row order (stable), so results are deterministic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.ranking import rank_within_groups

Arr = npt.NDArray[np.float64] | npt.NDArray[np.int64] | npt.NDArray[np.float32]


def _group_mean(group: Arr, values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]) -> float:
    _, inverse = np.unique(np.asarray(group), return_inverse=True)
    sums = np.bincount(inverse, weights=np.where(mask, values, 0.0))
    counts = np.bincount(inverse, weights=mask.astype(np.float64))
    has = counts > 0
    return float(np.mean(sums[has] / counts[has])) if has.any() else float("nan")


def ndcg_at_k(group: Arr, label: Arr, score: Arr, k: int) -> float:
    """Mean NDCG@k over groups with a positive label.

    DCG@k = Σ_{r<k} (2^{label_r} − 1) / log2(r + 2) over rows ranked by score; NDCG = DCG/IDCG
    where IDCG ranks by label.
    """
    label = np.asarray(label, dtype=np.float64)
    gain = np.power(2.0, label) - 1
    discount = 1.0 / np.log2(np.arange(len(label)) + 2.0)
    r_model = rank_within_groups(group, score)
    r_ideal = rank_within_groups(group, label)
    _, inverse = np.unique(np.asarray(group), return_inverse=True)
    dcg = np.bincount(
        inverse,
        weights=np.where(r_model < k, gain * discount[np.minimum(r_model, len(label) - 1)], 0),
    )
    idcg = np.bincount(
        inverse,
        weights=np.where(r_ideal < k, gain * discount[np.minimum(r_ideal, len(label) - 1)], 0),
    )
    has = idcg > 0
    return float(np.mean(dcg[has] / idcg[has])) if has.any() else float("nan")


def topk_mean(group: Arr, score: Arr, value: Arr, k: int) -> float:
    """U@k = mean over groups of the mean ``value`` of the group's top-k rows by ``score``."""
    ranks = rank_within_groups(group, score)
    return _group_mean(group, np.asarray(value, dtype=np.float64), ranks < k)


def random_topk_mean(group: Arr, value: Arr) -> float:
    """Expected U@k of a uniformly random order: the mean over groups of the group's mean value."""
    return _group_mean(group, np.asarray(value, dtype=np.float64), np.ones(len(value), dtype=bool))


def uplift_captured(u_model: float, u_random: float, u_oracle: float) -> float:
    """(U(model) − U(random)) / (U(oracle) − U(random)); NaN when oracle equals random."""
    span = u_oracle - u_random
    return float((u_model - u_random) / span) if abs(span) > 1e-12 else float("nan")


__all__ = [
    "ndcg_at_k",
    "random_topk_mean",
    "topk_mean",
    "uplift_captured",
]
