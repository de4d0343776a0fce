"""Point estimates with 95% intervals from per-intake contributions (CLT over intakes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

F64 = npt.NDArray[np.float64]
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """An estimated policy value with its interval."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    """Intakes the estimate averages over."""
    se: float


def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2))


def mean_estimate(per_intake: F64, *, level: float = LEVEL) -> Estimate:
    """V̂ = (1/n) Σ_i v_i with the CLT interval V̂ ± z·sd(v)/√n (intakes independent)."""
    v = np.asarray(per_intake, dtype=np.float64)
    n = len(v)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    value = float(v.mean())
    se = float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    half = _z(level) * se
    return Estimate(value, value - half, value + half, n, se)


def ratio_estimate(num: F64, den: F64, scale: float, *, level: float = LEVEL) -> Estimate:
    """V̂ = scale · Σ_i a_i / Σ_i b_i with a delta-method interval.

    The influence of intake i is ψ_i = scale · (a_i − R̂·b_i) / b̄ with R̂ = Σa/Σb, so
    se(V̂) = sd(ψ)/√n. Used by self-normalised estimators, whose control b has a known mean.
    """
    a, b = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    n = len(a)
    if n == 0 or b.sum() <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), n, float("nan"))
    ratio = float(a.sum() / b.sum())
    value = scale * ratio
    psi = scale * (a - ratio * b) / b.mean()
    se = float(psi.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    half = _z(level) * se
    return Estimate(value, value - half, value + half, n, se)


__all__ = ["LEVEL", "Estimate", "mean_estimate", "ratio_estimate"]
