"""Pass / warn / fail rules.

Ratio rule (group disparities; four-fifths rule by default): with r = f(worst) / f(best) and its
bootstrap interval [r_lo, r_hi],

* pass when r ≥ threshold (0.8);
* fail when r < threshold and r_hi < parity (1.0): the shortfall is not explained by sampling;
* warn otherwise (r < threshold but the interval reaches parity).

Level rule (a figure where larger is worse, e.g. a Gini): fail when the interval's lower bound
≥ fail, warn when the point estimate ≥ warn, pass otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from matcher.fairness.config import LevelThresholds, Thresholds
from matcher.fairness.figures import Disparity, Figure, Level, Verdict
from matcher.fairness.formatting import fmt
from matcher.fairness.specs import Unit


def ratio_verdict(disparity: Disparity | None, thresholds: Thresholds, level: float) -> Verdict:
    """The ratio rule applied to a disparity (n/a without one)."""
    if disparity is None:
        return Verdict(Level.NOT_ASSESSED, "fewer than two groups large enough to compare")
    ratio = disparity.ratio
    if not ratio.defined:
        return Verdict(Level.NOT_ASSESSED, "the best group's value is 0: no ratio")
    r, hi = fmt(ratio.value, Unit.RATIO), fmt(ratio.high, Unit.RATIO)
    limit, parity = fmt(thresholds.ratio, Unit.RATIO), fmt(thresholds.parity, Unit.RATIO)
    pct = f"{100 * level:.0f}%"
    severity = ratio.value / thresholds.ratio
    if ratio.value >= thresholds.ratio:
        return Verdict(Level.PASS, f"ratio {r} ≥ {limit}", severity)
    if math.isfinite(ratio.high) and ratio.high < thresholds.parity:
        reason = f"ratio {r} < {limit} and its {pct} interval (up to {hi}) excludes {parity}"
        return Verdict(Level.FAIL, reason, severity)
    reason = f"ratio {r} < {limit}, but its {pct} interval (up to {hi}) reaches {parity}"
    return Verdict(Level.WARN, reason, severity)


def level_verdict(figure: Figure | None, rule: LevelThresholds, unit: Unit) -> Verdict:
    """The level rule applied to a figure (n/a when there is none)."""
    if figure is None or not figure.defined:
        return Verdict(Level.NOT_ASSESSED, "not enough data")
    value, low = fmt(figure.value, unit), fmt(figure.low, unit)
    warn, fail = fmt(rule.warn, unit), fmt(rule.fail, unit)
    severity = rule.warn / figure.value if figure.value > 0 else np.inf
    if math.isfinite(figure.low) and figure.low >= rule.fail:
        return Verdict(Level.FAIL, f"{value}, interval from {low} ≥ fail level {fail}", severity)
    if figure.value >= rule.warn:
        reason = f"{value} ≥ warn level {warn} (fails when the interval is ≥ {fail})"
        return Verdict(Level.WARN, reason, severity)
    return Verdict(Level.PASS, f"{value} < warn level {warn}", severity)


def info_verdict() -> Verdict:
    """Context figures are shown, not judged."""
    return Verdict(Level.INFO, "context, not judged")


__all__ = ["info_verdict", "level_verdict", "ratio_verdict"]
