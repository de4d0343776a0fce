"""Offline trade-off of exposure-aware re-ranking: benefit lost vs exposure evened out.

:func:`evaluate_tradeoff` replays the eligible pairs (merit as the score) in intake order for
each strength: every batch of intakes is re-ranked with the amortised state built by the
batches before it (:mod:`matcher.fairness.mitigation`), its top k is served, and the state is
updated with the attention handed out and the merit-proportional target. It then compares the
mean benefit of the top k with exposure concentration (Gini), the never-shown share and the
group exposure disparity per therapist attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import pandas as pd

from matcher.fairness.config import FairnessConfig
from matcher.fairness.exposure import gini, position_weight, target_shares, total_variation
from matcher.fairness.groups import therapist_groups
from matcher.fairness.mitigation import exposure_adjusted
from matcher.ranking import rank_within_groups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
DEFAULT_STRENGTHS = (0.0, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class TradeoffRow:
    """What one strength achieves."""

    strength: float
    benefit: float
    """Mean over intakes of the mean merit (predicted benefit) of the top k."""
    benefit_change: float
    """benefit / benefit at strength 0 − 1 (negative = benefit lost)."""
    true_benefit: float | None
    """Mean true benefit of the top k (when the pairs carry ``true_benefit``)."""
    true_benefit_change: float | None
    gini: float
    """Gini of exposure across the eligible therapists."""
    never_shown: float
    """Share of eligible therapists never in anyone's top k."""
    exposure_disparity: dict[str, float]
    """Per therapist attribute: TV distance between group exposure and merit shares (groups of
    at least ``min_group_size`` eligible therapists)."""


@dataclass(frozen=True)
class Tradeoff:
    """The trade-off table."""

    top_k: int
    batch_size: int
    n_intakes: int
    n_therapists: int
    attributes: tuple[str, ...]
    rows: tuple[TradeoffRow, ...]


@dataclass(frozen=True)
class _Replay:
    """Exposure, target and served top-k rows of one strength."""

    exposure: F64
    target: F64
    benefit: F64
    true_benefit: F64 | None


def _per_intake_mean(values: F64, intake: I64, n: int) -> F64:
    sums = np.bincount(intake, weights=values, minlength=n)
    counts = np.bincount(intake, minlength=n)
    return sums[counts > 0] / counts[counts > 0]


def replay(
    intake: I64,
    therapist: I64,
    merit: F64,
    *,
    n_therapists: int,
    strength: float,
    top_k: int,
    batch_size: int,
    truth: F64 | None = None,
) -> _Replay:
    """Serve every intake's top k in batches with amortised re-ranking (rows sorted by intake;
    ``intake`` holds consecutive codes 0..n−1)."""
    exposure = np.zeros(n_therapists)
    target = np.zeros(n_therapists)
    n_intakes = int(intake.max()) + 1 if len(intake) else 0
    starts = np.searchsorted(intake, np.arange(0, n_intakes + batch_size, batch_size))
    served = np.zeros(len(intake), dtype=bool)
    for lo, hi in pairwise(starts):
        if lo == hi:
            continue
        rows, ther = slice(lo, hi), therapist[lo:hi]
        adjusted = exposure_adjusted(merit[rows], exposure[ther], target[ther], strength)
        rank = rank_within_groups(intake[rows], adjusted)
        top = rank < top_k
        weight = np.where(top, position_weight(rank + 1), 0.0)
        exposure += np.bincount(ther, weights=weight, minlength=n_therapists)
        local = intake[rows] - intake[lo]
        attention = np.bincount(local, weights=weight)
        shares = target_shares(local, merit[rows], attention)
        target += np.bincount(ther, weights=shares, minlength=n_therapists)
        served[lo:hi] = top
    benefit = _per_intake_mean(merit[served], intake[served], n_intakes)
    true = None if truth is None else _per_intake_mean(truth[served], intake[served], n_intakes)
    return _Replay(exposure, target, benefit, true)


def evaluate_tradeoff(
    eligible: pd.DataFrame,
    therapists: pd.DataFrame,
    *,
    strengths: Sequence[float] = DEFAULT_STRENGTHS,
    config: FairnessConfig | None = None,
    batch_size: int = 200,
) -> Tradeoff:
    """Benefit lost vs exposure gained at each re-ranking strength.

    ``eligible``: (intake_id, therapist_id, merit[, true_benefit]) rows, intakes in serving
    order; ``therapists``: the typed pool (for the group attributes). k, the minimum group size
    and the group definitions come from ``config``.
    """
    config = config or FairnessConfig()
    pairs = eligible.reset_index(drop=True)
    intake = pd.factorize(pairs["intake_id"].astype(str), sort=False)[0].astype(np.int64)
    order = np.argsort(intake, kind="stable")
    pairs, intake = pairs.iloc[order].reset_index(drop=True), intake[order]
    ther_codes, ther_ids = pd.factorize(pairs["therapist_id"].astype(str), sort=True)
    therapist = ther_codes.astype(np.int64)
    merit = pd.to_numeric(pairs["merit"], errors="coerce").fillna(0.0).to_numpy(np.float64)
    truth = (
        pd.to_numeric(pairs["true_benefit"], errors="coerce").to_numpy(np.float64)
        if "true_benefit" in pairs
        else None
    )
    pool = therapists.assign(therapist_id=therapists["therapist_id"].astype(str))
    pool = pool.set_index("therapist_id", drop=False).reindex(pd.Index(ther_ids))
    groups = therapist_groups(pool.reset_index(drop=True), config.groups)

    runs = [
        replay(
            intake,
            therapist,
            merit,
            n_therapists=len(ther_ids),
            strength=s,
            top_k=config.top_k,
            batch_size=batch_size,
            truth=truth,
        )
        for s in strengths
    ]
    base = float(np.mean(runs[0].benefit)) if runs else np.nan
    base_true = (
        float(np.nanmean(runs[0].true_benefit))
        if runs and runs[0].true_benefit is not None
        else None
    )
    rows = []
    for s, run in zip(strengths, runs, strict=True):
        benefit = float(np.mean(run.benefit))
        true = None if run.true_benefit is None else float(np.nanmean(run.true_benefit))
        disparity: dict[str, float] = {}
        for attribute in groups.columns:
            codes = pd.Categorical(groups[attribute]).codes
            size = np.bincount(codes)
            keep = size >= config.min_group_size
            if keep.sum() < 2:
                continue
            e = np.bincount(codes, weights=run.exposure) / max(run.exposure.sum(), 1e-300)
            t = np.bincount(codes, weights=run.target) / max(run.target.sum(), 1e-300)
            disparity[attribute] = float(total_variation(e[keep], t[keep]))
        rows.append(
            TradeoffRow(
                strength=float(s),
                benefit=benefit,
                benefit_change=benefit / base - 1 if base else np.nan,
                true_benefit=true,
                true_benefit_change=None if true is None or not base_true else true / base_true - 1,
                gini=float(gini(run.exposure)),
                never_shown=float(np.mean(run.exposure == 0)),
                exposure_disparity=disparity,
            )
        )
    return Tradeoff(
        top_k=config.top_k,
        batch_size=batch_size,
        n_intakes=int(intake.max()) + 1 if len(intake) else 0,
        n_therapists=len(ther_ids),
        attributes=tuple(a for a in groups.columns if any(a in r.exposure_disparity for r in rows)),
        rows=tuple(rows),
    )


__all__ = ["DEFAULT_STRENGTHS", "Tradeoff", "TradeoffRow", "evaluate_tradeoff", "replay"]
