"""Ranking metrics on flat arrays with a query-group id per row, vectorised over groups.

The one home of the ranking maths that serving, the fairness report, the synthetic world's
calibration and training evaluation share: ranks within groups, the DCG position discount,
NDCG@k, U@k (the mean value of a top k) and uplift captured (SPEC §5). Ties in score are broken
by row order (stable), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _one_group(group: npt.NDArray[Any]) -> bool:
    """Every row has the same group (a single serving request), and there is at least one."""
    return len(group) > 0 and group[0] == group[-1] and bool((group == group[0]).all())


def rank_within_groups(group: npt.ArrayLike, score: npt.ArrayLike) -> I64:
    """0-based rank of each row inside its group by descending score (stable on ties)."""
    group = np.asarray(group)
    score = np.asarray(score, dtype=np.float64)
    if _one_group(group):
        # One group (a single request): the same order by a stable sort of the scores alone.
        ranks = np.empty(len(score), dtype=np.int64)
        ranks[np.argsort(-score, kind="stable")] = np.arange(len(score))
        return ranks
    order = np.lexsort((np.arange(len(score)), -score, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.repeat(starts, sizes)
    return ranks


PARTITION_ROWS = 1024
"""Below this many rows one sort costs less than a partition's several array passes."""


def top_ranks_within_groups(group: npt.ArrayLike, score: npt.ArrayLike, k: int) -> I64:
    """:func:`rank_within_groups` for the rows ranked below ``k`` in their group, ``k`` for the
    rest (whose order among themselves is not needed). With one group (a serving request) the
    best ``k`` are selected by a partition instead of sorting every row: the k-th best score
    s_k splits the rows into those above it, ties at it (taken in row order until k are held)
    and the rest, so the ranks equal the full sort's."""
    group = np.asarray(group)
    score = np.asarray(score, dtype=np.float64)
    n = len(score)
    if k > 0 and n >= PARTITION_ROWS and k < n and _one_group(group):
        neg = -score
        kth = np.partition(neg, k - 1)[k - 1]
        if not np.isnan(kth):  # else fewer than k comparable scores: the sort ranks NaN last
            above = np.flatnonzero(neg < kth)
            tied = np.flatnonzero(neg == kth)[: k - len(above)]
            top = np.sort(np.concatenate([above, tied]))
            ranks = np.full(n, k, dtype=np.int64)
            ranks[top[np.argsort(neg[top], kind="stable")]] = np.arange(len(top))
            return ranks
    ranks = rank_within_groups(group, score)
    return np.minimum(ranks, max(k, 0), out=ranks)


def position_weight(position: npt.ArrayLike) -> F64:
    """w(p) = 1 / log2(1 + p) for 1-based positions p: the DCG discount, and the attention a
    list hands out at position p (fairness of exposure)."""
    return 1.0 / np.log2(1.0 + np.asarray(position, dtype=np.float64))


def group_codes(group: npt.ArrayLike) -> tuple[I64, int]:
    """Dense codes 0..n−1 of the groups (in sorted order of the ids), and n."""
    uniques, inverse = np.unique(np.asarray(group), return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), len(uniques)


def ndcg_per_group(codes: I64, n_groups: int, label: npt.ArrayLike, rank: I64, k: int) -> F64:
    """NDCG@k of each group from each row's 0-based ``rank``; NaN where IDCG = 0.

    DCG@k = Σ_{r<k} (2^{label_r} − 1) · w(r + 1), IDCG the same over the rows ranked by label.
    """
    gain = np.power(2.0, np.asarray(label, dtype=np.float64)) - 1
    ideal = rank_within_groups(codes, gain)
    dcg = np.bincount(
        codes, weights=np.where(rank < k, gain * position_weight(rank + 1), 0), minlength=n_groups
    )
    idcg = np.bincount(
        codes, weights=np.where(ideal < k, gain * position_weight(ideal + 1), 0), minlength=n_groups
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), np.nan)


def ndcg_at_k(group: npt.ArrayLike, label: npt.ArrayLike, score: npt.ArrayLike, k: int) -> float:
    """Mean NDCG@k (:func:`ndcg_per_group`, rows ranked by score) over groups with a positive
    label."""
    return ndcg_at_ks(group, label, score, (k,))[0]


def ndcg_at_ks(
    group: npt.ArrayLike, label: npt.ArrayLike, score: npt.ArrayLike, ks: Sequence[int]
) -> list[float]:
    """:func:`ndcg_at_k` at each k of ``ks``, from one ranking of the rows."""
    codes, n = group_codes(group)
    rank = rank_within_groups(codes, score)
    return [_mean(ndcg_per_group(codes, n, label, rank, k)) for k in ks]


def _group_means(codes: I64, n: int, value: F64, mask: npt.NDArray[np.bool_]) -> F64:
    sums = np.bincount(codes, weights=np.where(mask, value, 0.0), minlength=n)
    counts = np.bincount(codes, weights=mask.astype(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1.0), np.nan)


def topk_mean_per_group(
    codes: I64, n_groups: int, score: npt.ArrayLike, value: npt.ArrayLike, k: int
) -> F64:
    """U@k of each group: the mean ``value`` of its top-k rows by ``score`` (NaN if empty)."""
    top = rank_within_groups(codes, score) < k
    return _group_means(codes, n_groups, np.asarray(value, dtype=np.float64), top)


def random_mean_per_group(codes: I64, n_groups: int, value: npt.ArrayLike) -> F64:
    """Expected U@k of a uniformly random order in each group: the group's mean value."""
    value = np.asarray(value, dtype=np.float64)
    return _group_means(codes, n_groups, value, np.ones(len(value), dtype=bool))


def _mean(per_group: F64) -> float:
    has = ~np.isnan(per_group)
    return float(np.mean(per_group[has])) if has.any() else float("nan")


def topk_mean(group: npt.ArrayLike, score: npt.ArrayLike, value: npt.ArrayLike, k: int) -> float:
    """U@k = mean over groups of the mean ``value`` of the group's top-k rows by ``score``."""
    return topk_means(group, score, value, (k,))[0]


def topk_means(
    group: npt.ArrayLike, score: npt.ArrayLike, value: npt.ArrayLike, ks: Sequence[int]
) -> list[float]:
    """:func:`topk_mean` at each k of ``ks``, from one ranking of the rows."""
    codes, n = group_codes(group)
    rank = rank_within_groups(codes, score)
    value = np.asarray(value, dtype=np.float64)
    return [_mean(_group_means(codes, n, value, rank < k)) for k in ks]


def random_topk_mean(group: npt.ArrayLike, value: npt.ArrayLike) -> float:
    """Expected U@k of a uniformly random order: the mean over groups of the group's mean value."""
    codes, n = group_codes(group)
    return _mean(random_mean_per_group(codes, n, value))


def uplift_captured(u_model: float, u_random: float, u_oracle: float) -> float:
    """(U(model) − U(random)) / (U(oracle) − U(random)); NaN when oracle equals random."""
    span = u_oracle - u_random
    return float((u_model - u_random) / span) if abs(span) > 1e-12 else float("nan")


__all__ = [
    "PARTITION_ROWS",
    "group_codes",
    "ndcg_at_k",
    "ndcg_at_ks",
    "ndcg_per_group",
    "position_weight",
    "random_mean_per_group",
    "random_topk_mean",
    "rank_within_groups",
    "top_ranks_within_groups",
    "topk_mean",
    "topk_mean_per_group",
    "topk_means",
    "uplift_captured",
]
