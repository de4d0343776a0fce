"""Ranking primitives: ranks within query groups, phased candidate cuts, load-aware re-ranking."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from core.ranking import rank_within_groups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def top_per_group(group: I64, score: F64, k: int) -> npt.NDArray[np.bool_]:
    """Mask of each group's ``k`` best rows by score."""
    return rank_within_groups(group, score) < k


def load_aware(score: F64, load: npt.NDArray[np.float32], strength: float) -> F64:
    """Damp nearly full caseloads so they are not offered to everyone.

    adjusted = score · (1 − strength · load²), load = current/max caseload ∈ [0, 1]: an empty
    caseload keeps its score, a full one loses ``strength`` of it.
    """
    return score * (1.0 - strength * np.clip(load, 0.0, 1.0).astype(np.float64) ** 2)


__all__ = ["load_aware", "rank_within_groups", "top_per_group"]
