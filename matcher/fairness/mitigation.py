"""Exposure-aware re-ranking at serving time: amortised fairness of exposure.

Each therapist carries a running total of the attention they received (exposure) and of the
attention their merit warranted (target, :func:`matcher.fairness.exposure.target_exposure`),
as in the amortised fairness of Biega et al. (2018). Re-ranking boosts therapists whose exposure
lags their merit and damps those ahead of it::

    d_t = (target_t − exposure_t) / (target_t + exposure_t)  ∈ [−1, 1]   (0 when both are 0)
    adjusted_t = score_t · (1 + strength · d_t)

``strength`` ∈ [0, 1]: 0 leaves the order alone; 1 lets a score move by up to ±100% (a therapist
who was eligible but never shown has d = 1, one shown far beyond merit d → −1). Only the order
changes: every candidate stays in the list, none is duplicated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from matcher.fairness.exposure import target_exposure, therapist_exposure
from matcher.ranking import rank_within_groups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    return float(strength)


def exposure_deficit(exposure: npt.ArrayLike, target: npt.ArrayLike) -> F64:
    """d = (target − exposure) / (target + exposure) ∈ [−1, 1]; 0 where both are 0 (or missing)."""
    e = np.nan_to_num(np.clip(np.asarray(exposure, dtype=np.float64), 0, None))
    t = np.nan_to_num(np.clip(np.asarray(target, dtype=np.float64), 0, None))
    total = e + t
    return np.where(total > 0, (t - e) / np.where(total > 0, total, 1.0), 0.0)


def exposure_adjusted(
    score: npt.ArrayLike, exposure: npt.ArrayLike, target: npt.ArrayLike, strength: float
) -> F64:
    """adjusted = score · (1 + strength · d), d = :func:`exposure_deficit` (strength 0: score)."""
    strength = _check_strength(strength)
    score = np.asarray(score, dtype=np.float64)
    if strength == 0.0:
        return score.copy()
    return score * (1.0 + strength * exposure_deficit(exposure, target))


def rerank(
    score: npt.ArrayLike, exposure: npt.ArrayLike, target: npt.ArrayLike, strength: float
) -> I64:
    """Serving order of one candidate list: indices into the candidates, best first.

    Descending adjusted score, ties in candidate order; strength 0 gives the order of ``score``.
    A permutation of ``range(len(score))``.
    """
    adjusted = exposure_adjusted(score, exposure, target, strength)
    return np.argsort(-adjusted, kind="stable").astype(np.int64)


def rerank_groups(
    group: npt.ArrayLike,
    score: npt.ArrayLike,
    exposure: npt.ArrayLike,
    target: npt.ArrayLike,
    strength: float,
) -> I64:
    """0-based rank of every candidate within its list (``group``) after re-ranking."""
    return rank_within_groups(group, exposure_adjusted(score, exposure, target, strength))


class ExposureReranker:
    """Amortised exposure state plus the re-ranking it drives (scikit-learn style).

    Parameters
    ----------
    strength
        How far scores may move towards exposure proportional to merit, in [0, 1].
    decay
        Factor applied to the running totals before each :meth:`partial_fit`, in (0, 1]; below 1
        the state forgets old lists (a half-life of log(0.5) / log(decay) updates).

    Attributes
    ----------
    exposure_ : pandas.Series
        Attention received per therapist id, Σ 1/log2(1 + position).
    target_ : pandas.Series
        Merit-proportional attention per therapist id.
    """

    def __init__(self, strength: float = 0.25, decay: float = 1.0) -> None:
        self.strength = strength
        self.decay = decay

    def fit(self, impressions: pd.DataFrame, eligible: pd.DataFrame | None = None) -> Self:
        """Start the state from logged lists (and, optionally, their eligible pairs)."""
        _check_strength(self.strength)
        if not 0.0 < self.decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        self.exposure_ = therapist_exposure(impressions).astype(np.float64)
        self.target_ = target_exposure(impressions, eligible).astype(np.float64)
        return self

    def partial_fit(self, impressions: pd.DataFrame, eligible: pd.DataFrame | None = None) -> Self:
        """Add newly served lists to the (decayed) state."""
        if not hasattr(self, "exposure_"):
            return self.fit(impressions, eligible)
        new = ExposureReranker(self.strength).fit(impressions, eligible)
        self.exposure_ = (self.exposure_ * self.decay).add(new.exposure_, fill_value=0.0)
        self.target_ = (self.target_ * self.decay).add(new.target_, fill_value=0.0)
        return self

    def state(self, therapist_ids: Sequence[str] | pd.Series) -> tuple[F64, F64]:
        """(exposure, target) of the given therapists (0 for ids never seen)."""
        ids = pd.Index(pd.Series(therapist_ids, dtype=object).astype(str))
        exposure = self.exposure_.reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
        target = self.target_.reindex(ids).fillna(0.0).to_numpy(dtype=np.float64)
        return exposure, target

    def adjust(self, therapist_ids: Sequence[str] | pd.Series, score: npt.ArrayLike) -> F64:
        """Adjusted scores of one or many candidate lists (order by these)."""
        exposure, target = self.state(therapist_ids)
        return exposure_adjusted(score, exposure, target, self.strength)

    def rank(
        self, group: npt.ArrayLike, therapist_ids: Sequence[str] | pd.Series, score: npt.ArrayLike
    ) -> I64:
        """0-based rank within each list after re-ranking."""
        return rank_within_groups(group, self.adjust(therapist_ids, score))


__all__ = [
    "ExposureReranker",
    "exposure_adjusted",
    "exposure_deficit",
    "rerank",
    "rerank_groups",
]
