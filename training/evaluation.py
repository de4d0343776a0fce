"""Ranking quality: NDCG on logged labels and uplift captured on a world's truth (SPEC §5).

The formulas live in :mod:`core.ranking` (one copy, shared with the fairness report and the
synthetic world's calibration); this module names them for training.
"""

from __future__ import annotations

from core.ranking import (
    ndcg_at_k,
    ndcg_at_ks,
    random_topk_mean,
    topk_mean,
    topk_means,
    uplift_captured,
)

__all__ = [
    "ndcg_at_k",
    "ndcg_at_ks",
    "random_topk_mean",
    "topk_mean",
    "topk_means",
    "uplift_captured",
]
