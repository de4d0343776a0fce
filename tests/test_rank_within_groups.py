"""Ranks within groups: the one-group fast path orders exactly as the grouped sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ranking import PARTITION_ROWS, rank_within_groups, top_ranks_within_groups

SCORES = st.lists(
    st.sampled_from([0.0, -0.0, 0.5, 0.5, 1.0, -2.0, float("nan"), float("inf")]), max_size=40
)


def _by_definition(group: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Rank by descending score inside each group, ties by row order (a stable multi-key sort)."""
    order = np.lexsort((np.arange(len(score)), -score, group))
    ranks = np.empty(len(score), dtype=np.int64)
    for g in np.unique(group):
        rows = order[group[order] == g]
        ranks[rows] = np.arange(len(rows))
    return ranks


@settings(max_examples=80, deadline=None)
@given(scores=SCORES, split=st.booleans())
def test_one_group_and_many_groups_rank_by_definition(scores: list[float], split: bool) -> None:
    score = np.array(scores, dtype=np.float64)
    group = (np.arange(len(score)) % 3 if split else np.full(len(score), 7)).astype(np.int64)
    assert np.array_equal(rank_within_groups(group, score), _by_definition(group, score))


@settings(max_examples=120, deadline=None)
@given(
    scores=SCORES,
    split=st.booleans(),
    k=st.integers(0, 45),
    copies=st.sampled_from([1, PARTITION_ROWS // 8, PARTITION_ROWS]),
)
def test_top_ranks_equal_the_full_ranks_below_k(
    scores: list[float], split: bool, k: int, copies: int
) -> None:
    """The partition-selected top k (many rows: the scores repeated ``copies`` times, so ties
    abound) rank exactly as the full sort, ties and NaN included; every other row reads k."""
    score = np.tile(np.array(scores, dtype=np.float64), copies)
    group = (np.arange(len(score)) % 3 if split else np.full(len(score), 7)).astype(np.int64)
    full = _by_definition(group, score)
    assert np.array_equal(top_ranks_within_groups(group, score, k), np.minimum(full, k))
