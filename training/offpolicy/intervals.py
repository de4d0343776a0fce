"""Point estimates with 95% intervals from per-intake contributions (CLT over intakes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm, t

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


def wilson(successes: int, n: int, *, level: float = LEVEL) -> Estimate:
    """A rate k/n with the Wilson score interval::

        (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)

    (good coverage for small n and rates near 0 or 1; NaN for n = 0)."""
    if n <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    z = _z(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(
        p, float(centre - half), float(centre + half), n, float(np.sqrt(p * (1 - p) / n))
    )


def newcombe_difference(k1: int, n1: int, k0: int, n0: int, *, level: float = LEVEL) -> Estimate:
    """p̂₁ − p̂₀ of two independent rates with Newcombe's hybrid score interval (method 10),
    from the Wilson limits (l_i, u_i) of each::

        low  = d − √((p̂₁ − l₁)² + (u₀ − p̂₀)²),   high = d + √((u₁ − p̂₁)² + (p̂₀ − l₀)²)
    """
    if n1 <= 0 or n0 <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    a, b = wilson(k1, n1, level=level), wilson(k0, n0, level=level)
    d = a.value - b.value
    low = d - np.sqrt((a.value - a.ci_low) ** 2 + (b.ci_high - b.value) ** 2)
    high = d + np.sqrt((a.ci_high - a.value) ** 2 + (b.value - b.ci_low) ** 2)
    return Estimate(d, float(low), float(high), n1 + n0, float(np.hypot(a.se, b.se)))


def t_mean(values: F64, *, level: float = LEVEL) -> Estimate:
    """x̄ ± t_{n−1}·s/√n (NaN below 2 values)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < 2:
        value = float(v.mean()) if n else float("nan")
        return Estimate(value, float("nan"), float("nan"), n, float("nan"))
    value, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(n))
    half = float(t.ppf(0.5 + level / 2, n - 1)) * se
    return Estimate(value, value - half, value + half, n, se)


def welch_difference(a: F64, b: F64, *, level: float = LEVEL) -> Estimate:
    """ā − b̄ of two independent samples with Welch's t interval: se = √(s²ₐ/nₐ + s²_b/n_b),
    ν by Welch–Satterthwaite (NaN below 2 values in either)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        return Estimate(float("nan"), float("nan"), float("nan"), len(x) + len(y), float("nan"))
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = float(np.sqrt(va + vb))
    d = float(x.mean() - y.mean())
    if se == 0:
        return Estimate(d, d, d, len(x) + len(y), 0.0)
    nu = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    half = float(t.ppf(0.5 + level / 2, nu)) * se
    return Estimate(d, d - half, d + half, len(x) + len(y), se)


__all__ = [
    "LEVEL",
    "Estimate",
    "mean_estimate",
    "newcombe_difference",
    "ratio_estimate",
    "t_mean",
    "welch_difference",
    "wilson",
]
