"""Position-weighted exposure and merit-proportional target exposure (Singh & Joachims 2018).

A therapist shown at position p gets attention w(p) = 1 / log2(1 + p) (the DCG discount: 1 at the
top, 0.63 at 2, 0.5 at 3, …). Fairness of exposure asks that each therapist's exposure, summed
over all match lists, be proportional to their merit, the predicted benefit they would bring to
the clients they were eligible for.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.ranking import position_weight

F64 = npt.NDArray[np.float64]


def target_shares(
    intake: npt.NDArray[np.int64], merit: npt.ArrayLike, attention: npt.ArrayLike
) -> F64:
    """Each pair's merit-proportional share of its intake's attention (the one copy of the
    target-exposure formula: this module, :class:`matcher.engine.ExposureLedger` and the
    trade-off replay all call it)::

        target_it = E_i · m_it / Σ_t' m_it'

    ``intake`` holds codes 0..n−1 into ``attention`` (E_i, the attention list i handed out),
    ``merit`` m_it is clipped to ≥ 0 (NaN counts 0); an intake whose merits are all 0 splits E_i
    equally over its pairs. Summed per therapist this gives target_t, and Σ target = Σ E_i.
    """
    attention = np.asarray(attention, dtype=np.float64)
    n = len(attention)
    m = np.clip(np.nan_to_num(np.asarray(merit, dtype=np.float64)), 0.0, None)
    total = np.bincount(intake, weights=m, minlength=n)[intake]
    size = np.bincount(intake, minlength=n)[intake].astype(np.float64)
    share = np.where(total > 0, m / np.where(total > 0, total, 1.0), 1.0 / np.maximum(size, 1))
    return np.asarray(share * attention[intake], dtype=np.float64)


def therapist_exposure(impressions: pd.DataFrame) -> pd.Series:
    """exposure_t = Σ_{(i, t, p) shown} w(p): total attention each therapist received."""
    weight = pd.Series(position_weight(impressions["position"]), index=impressions.index)
    return weight.groupby(impressions["therapist_id"].astype(str)).sum().rename("exposure")


def merit_pairs(impressions: pd.DataFrame, eligible: pd.DataFrame | None) -> pd.DataFrame:
    """(intake_id, therapist_id, merit) for every intake that was shown a list.

    The eligible pairs when given (every therapist who could have been shown); for intakes
    missing from ``eligible`` (or without it) the shown therapists, with their score as merit.
    """
    shown = impressions[["intake_id", "therapist_id", "score"]].rename(columns={"score": "merit"})
    shown = shown.astype({"intake_id": str, "therapist_id": str})
    if eligible is None:
        return shown.reset_index(drop=True)
    pool = eligible[["intake_id", "therapist_id", "merit"]].astype(
        {"intake_id": str, "therapist_id": str}
    )
    listed = shown["intake_id"].unique()
    pool = pool[pool["intake_id"].isin(listed)]
    fallback = shown[~shown["intake_id"].isin(pool["intake_id"].unique())]
    return pd.concat([pool, fallback], ignore_index=True)


def target_exposure(impressions: pd.DataFrame, eligible: pd.DataFrame | None) -> pd.Series:
    """Merit-proportional target: target_t = Σ_i E_i · m_it / Σ_{t'} m_it'.

    E_i = Σ_{shown in i} w(p) is the attention list i handed out and m_it ≥ 0 the merit of
    therapist t for intake i over the intake's eligible therapists (:func:`merit_pairs`); an
    intake whose merits are all 0 splits E_i equally. Σ_t target_t = Σ_t exposure_t.
    """
    attention = (
        pd.Series(position_weight(impressions["position"]), index=impressions.index)
        .groupby(impressions["intake_id"].astype(str))
        .sum()
    )
    pairs = merit_pairs(impressions, eligible)
    merit = pd.to_numeric(pairs["merit"], errors="coerce").to_numpy(dtype=np.float64)
    codes, intakes = pd.factorize(pairs["intake_id"])
    given = attention.reindex(pd.Index(intakes)).fillna(0.0).to_numpy(dtype=np.float64)
    shares = target_shares(codes.astype(np.int64), merit, given)
    target = pd.Series(shares, index=pairs.index, dtype=np.float64)
    return target.groupby(pairs["therapist_id"]).sum().rename("target")


def gini(x: npt.ArrayLike) -> F64:
    """Gini coefficient along the last axis: G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄).

    Computed from the ascending sort x_(1) ≤ … ≤ x_(n) as
    G = 2 Σ_i i · x_(i) / (n Σ_i x_i) − (n + 1) / n; 0 = everyone equal, → 1 = one unit has all.
    0 when every value is 0.
    """
    values = np.sort(np.asarray(x, dtype=np.float64), axis=-1)
    n = values.shape[-1]
    if n == 0:
        return np.asarray(np.nan)
    total = values.sum(axis=-1)
    ranks = np.arange(1, n + 1, dtype=np.float64)
    weighted = (values * ranks).sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    return np.asarray(np.where(total > 0, 2 * weighted / (n * safe) - (n + 1) / n, 0.0))


def total_variation(p: npt.ArrayLike, q: npt.ArrayLike) -> F64:
    """TV(p, q) = ½ Σ_g |p_g − q_g| along the last axis: the share of exposure that would have to
    move between groups for exposure to be proportional to merit (0 = proportional)."""
    return np.asarray(0.5 * np.nansum(np.abs(np.asarray(p) - np.asarray(q)), axis=-1))


__all__ = [
    "gini",
    "merit_pairs",
    "position_weight",
    "target_exposure",
    "target_shares",
    "therapist_exposure",
    "total_variation",
]
