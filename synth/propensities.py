"""The logging policy's true item-position propensities, by Monte Carlo over its own noise.

The logging policy (see :mod:`synth.logging_policy`) ranks an intake's N eligible therapists by
s_t + σ·ε_t (ε ~ N(0, 1)) with probability 1 − ε_explore, or uniformly at random otherwise, and
shows the first L ~ Uniform{L_min..L_max} (L independent of the order). So

  μ(t, k | x) = P(L ≥ k) · [(1 − ε_explore)·P(rank_σ(t) = k) + ε_explore / N]

and P(shown) = Σ_k μ(t, k | x). P(rank_σ(t) = k) has no closed form under Gaussian noise; it is
estimated from ``draws`` Rao–Blackwellised replays of the policy's noise (vectorised over pairs).
The replays use their own generator, so the world's own draws (and calibration) are unchanged.
The ε / N term keeps every propensity > 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from matcher.ranking import rank_within_groups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
DRAWS = 200
"""Replays of the policy's noise (each integrates the row's own noise exactly, see
:func:`rank_probabilities`)."""


def length_survival(list_min: int, list_max: int) -> F64:
    """P(L ≥ k) for k = 1..list_max with L ~ Uniform{list_min..list_max}."""
    k = np.arange(1, list_max + 1)
    return np.clip((list_max - k + 1) / (list_max - list_min + 1), 0.0, 1.0)


def rank_probabilities(
    group: I64, score: F64, noise: float, depth: int, *, draws: int, rng: np.random.Generator
) -> F64:
    """``(P, depth)`` estimate of P(row is at rank k) when rows are ordered within ``group`` by
    score + noise·N(0, 1).

    Rao–Blackwellised Monte Carlo: each replay draws every row's noise, and each row's own noise
    is then integrated out exactly. With c_j the j-th largest noisy score among the *other* rows
    of its group (c_0 = +∞), P(rank = k | others) = Φ((c_{k−1} − s)/σ) − Φ((c_k − s)/σ); the
    estimate is the mean over replays (far less noisy than counting realised ranks), rescaled so
    each rank of each group is held with total probability 1.
    """
    n = len(score)
    if n == 0 or noise <= 0:
        rank = rank_within_groups(group, score)
        return (rank[:, None] == np.arange(depth)[None, :]).astype(np.float64)
    n_groups = int(group.max()) + 1
    total = np.zeros((n, depth))
    cols = np.arange(depth)[None, :]
    for _ in range(max(draws, 1)):
        value = score + noise * rng.normal(0, 1, n)
        rank = rank_within_groups(group, value)
        top = np.full((n_groups, depth + 1), -np.inf)
        keep = rank <= depth
        top[group[keep], rank[keep]] = value[keep]
        ahead = top[group]
        others = np.where(cols < rank[:, None], ahead[:, :depth], ahead[:, 1:])
        bounds = np.concatenate([np.full((n, 1), np.inf), others], axis=1)
        cdf = ndtr((bounds - score[:, None]) / noise)
        total += cdf[:, :-1] - cdf[:, 1:]
    # each rank k ≤ group size is held by exactly one row: rescale the per-row integrals so
    # every (group, rank) column sums to 1
    sums = np.stack(
        [np.bincount(group, weights=total[:, k], minlength=n_groups) for k in range(depth)], axis=1
    )
    return np.where(sums[group] > 0, total / np.where(sums[group] > 0, sums[group], 1.0), 0.0)


def logging_propensities(
    group: I64,
    score: F64,
    *,
    noise: float,
    exploration: float,
    list_min: int,
    list_max: int,
    draws: int = DRAWS,
    rng: np.random.Generator,
) -> F64:
    """``(P, list_max)`` matrix of μ(t, k | x) for every candidate row (see the module formula);
    rows are grouped by intake ``group``."""
    n_groups = int(group.max()) + 1 if len(group) else 0
    size = np.bincount(group, minlength=n_groups)[group].astype(np.float64)
    ranked = rank_probabilities(group, score, noise, list_max, draws=draws, rng=rng)
    positions = np.arange(list_max)[None, :]
    uniform = np.where(positions < size[:, None], 1.0 / np.maximum(size[:, None], 1), 0.0)
    mix = (1 - exploration) * ranked + exploration * uniform
    return mix * length_survival(list_min, list_max)[None, :]


__all__ = ["DRAWS", "length_survival", "logging_propensities", "rank_probabilities"]
