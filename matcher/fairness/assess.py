"""From bootstrap sums to results: group figures with suppression, disparities, verdicts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matcher.fairness.config import FairnessConfig
from matcher.fairness.exposure import total_variation
from matcher.fairness.figures import Disparity, Figure, GroupFigure, GroupMetricResult
from matcher.fairness.flags import info_verdict, ratio_verdict
from matcher.fairness.intervals import GroupedBootstrap, percentile_interval
from matcher.fairness.specs import MetricSpec, favourable, group_values

F64 = npt.NDArray[np.float64]
ALL = "__all__"
"""Pseudo-attribute with one group holding every unit: overall figures come from it."""


def _figure(value: float, replicates: F64, level: float) -> Figure:
    low, high = percentile_interval(replicates, level)
    return Figure(float(value), float(low), float(high))


def shown_groups(boot: GroupedBootstrap, spec: MetricSpec, attribute: str, minimum: int) -> F64:
    """Boolean mask of the groups large enough to show: n_g = Σ_{i ∈ g} count_i ≥ minimum."""
    n = boot.sums_[attribute][:, boot.column(spec.count)]
    return np.asarray(n >= minimum)


def disparity(
    values: F64,
    replicates: F64,
    spec: MetricSpec,
    *,
    shown: F64,
    levels: tuple[str, ...],
    level: float,
) -> Disparity | None:
    """Worst/best ratio and gap over the shown groups (None with fewer than two).

    f = favourable orientation of the metric; worst = argmin f, best = argmax f on the sample
    (first in group order on ties); the same pair is compared in every resample.
    """
    f, f_reps = favourable(values, spec), favourable(replicates, spec)
    candidates = np.flatnonzero(shown & np.isfinite(f))
    if len(candidates) < 2:
        return None
    worst = int(candidates[np.argmin(f[candidates])])
    best = int(candidates[np.argmax(f[candidates])])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = f[worst] / f[best] if f[best] > 0 else np.nan
        rep_best = f_reps[:, best]
        rep_ratio = np.where(
            rep_best > 0, f_reps[:, worst] / np.where(rep_best > 0, rep_best, 1), np.nan
        )
    return Disparity(
        worst=levels[worst],
        best=levels[best],
        ratio=_figure(ratio, rep_ratio, level),
        gap=_figure(f[best] - f[worst], f_reps[:, best] - f_reps[:, worst], level),
    )


def assess_group_metric(
    boot: GroupedBootstrap, spec: MetricSpec, attribute: str, config: FairnessConfig
) -> GroupMetricResult:
    """Every group's figure (suppressed below ``min_group_size``), disparity and verdict."""
    level = config.ci_level
    values = group_values(boot.sums_[attribute], spec, boot.columns_)
    reps = group_values(boot.replicates_[attribute], spec, boot.columns_)
    low, high = percentile_interval(reps, level)
    n = boot.sums_[attribute][:, boot.column(spec.count)]
    shown = shown_groups(boot, spec, attribute, config.min_group_size)
    groups = tuple(
        GroupFigure(
            name, round(float(n[g])), Figure(float(values[g]), float(low[g]), float(high[g]))
        )
        if shown[g]
        else GroupFigure(name)
        for g, name in enumerate(boot.levels_[attribute])
    )
    overall = None
    if spec.has_overall and ALL in boot.sums_:
        total = group_values(boot.sums_[ALL], spec, boot.columns_)[0]
        overall = _figure(
            total, group_values(boot.replicates_[ALL], spec, boot.columns_)[:, 0], level
        )
    if not spec.flagged:
        return GroupMetricResult(spec, attribute, overall, groups, None, info_verdict())
    gap = disparity(values, reps, spec, shown=shown, levels=boot.levels_[attribute], level=level)
    verdict = ratio_verdict(gap, config.thresholds, level)
    return GroupMetricResult(spec, attribute, overall, groups, gap, verdict)


def exposure_disparity(
    boot: GroupedBootstrap, share: MetricSpec, attribute: str, config: FairnessConfig
) -> tuple[int, Figure | None]:
    """TV distance between exposure and merit shares over the shown groups of ``attribute``.

    EED = ½ Σ_{g shown} |E_g / E − T_g / T|, E_g = Σ_{t ∈ g} exposure_t, T_g = Σ_{t ∈ g} target_t.
    Returns (units in the groups compared, figure); None when fewer than two groups are shown.
    """
    shown = shown_groups(boot, share, attribute, config.min_group_size)
    n = round(float(boot.sums_[attribute][shown, boot.column(share.count)].sum()))
    if shown.sum() < 2:
        return n, None
    e, t = boot.column("exposure"), boot.column("target")

    def tv(sums: F64) -> F64:
        with np.errstate(divide="ignore", invalid="ignore"):
            p = sums[..., e] / sums[..., e].sum(axis=-1, keepdims=True)
            q = sums[..., t] / sums[..., t].sum(axis=-1, keepdims=True)
        return total_variation(p[..., shown], q[..., shown])

    value = float(tv(boot.sums_[attribute]))
    return n, _figure(value, tv(boot.replicates_[attribute]), config.ci_level)


__all__ = ["ALL", "assess_group_metric", "disparity", "exposure_disparity", "shown_groups"]
