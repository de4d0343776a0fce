"""Bootstrap confidence intervals, vectorised: every statistic that is a function of group sums.

Resampling follows fairlearn's ``MetricFrame(n_boot=…)``: draw n units with replacement from the
whole sample (group sizes vary between resamples) and take percentile intervals. Instead of
recomputing a pandas group-by per resample, the resample is a count vector w_b and every group
sum for every attribute and column is one sparse product, so a report's thousands of intervals
cost seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

F64 = npt.NDArray[np.float64]


def resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> F64:
    """Multinomial resample counts, shape (n_boot, n): row b counts how often each unit is drawn
    when n units are drawn with replacement (each row sums to n)."""
    draws = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def percentile_interval(replicates: npt.ArrayLike, level: float) -> tuple[F64, F64]:
    """Percentile interval (q_{α/2}, q_{1−α/2}), α = 1 − level, along axis 0 (NaN ignored)."""
    alpha = 1.0 - level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(
            np.asarray(replicates, dtype=np.float64), [alpha / 2, 1 - alpha / 2], axis=0
        )
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def exact_boundary_interval(value: float, n: int, level: float) -> tuple[float, float] | None:
    """Clopper–Pearson interval of a rate observed at a boundary: 0 of n or n of n.

    The percentile bootstrap of a rate that is 0 (or 1) in every unit has zero width — every
    resample is 0 too — which would read as certainty at any n. The exact binomial interval
    does not: with α = 1 − level, 0 of n gives [0, 1 − (α/2)^(1/n)] and n of n gives
    [(α/2)^(1/n), 1] (for 0 of 20 at 95%: 0–16.8%). None when ``value`` is not 0 or 1, or n < 1.
    """
    if n < 1 or value not in (0.0, 1.0):
        return None
    edge = float((1.0 - level) / 2) ** (1.0 / n)
    return (0.0, 1.0 - edge) if value == 0.0 else (edge, 1.0)


def canonical_order(values: F64, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """An order of the units fixed by their content alone (groups, then values).

    Resampling in this order makes intervals independent of row order and of unit ids: relabel
    or shuffle the therapists and every interval stays the same.
    """
    keys = [*np.nan_to_num(values, nan=-np.inf).T[::-1], *codes.T[::-1]]
    return np.lexsort(keys) if keys else np.arange(len(values))


class GroupedBootstrap:
    """Per-group column sums, on the sample and on bootstrap resamples of its units.

    For attribute a, group g and column c: S[g, c] = Σ_{i: a(i) = g} x[i, c]. Resample b gives
    S_b[g, c] = Σ_i w_bi · x[i, c] · [a(i) = g] with w_b the multinomial counts of
    :func:`resample_counts`. Any statistic of group sums (a mean Σnum/Σden, a share of the total,
    a ratio of shares) is evaluated on ``sums_`` and on ``replicates_`` alike.

    Parameters
    ----------
    n_boot
        Resamples.
    seed
        Seed of the resampling (same seed, same content → same intervals).
    max_cells
        Resample counts held at once (n_units × resamples per chunk), bounds memory.
    """

    def __init__(self, n_boot: int = 500, seed: int = 0, max_cells: int = 4_000_000) -> None:
        self.n_boot = n_boot
        self.seed = seed
        self.max_cells = max_cells

    def fit(self, values: pd.DataFrame, groups: pd.DataFrame) -> Self:
        """Compute sums and resampled sums of ``values`` columns for every ``groups`` column.

        ``groups`` holds one categorical column per attribute (aligned with ``values``); its
        categories that occur are the groups.
        """
        x = values.to_numpy(dtype=np.float64, na_value=0.0)
        cats = {a: pd.Categorical(groups[a]) for a in groups.columns}
        levels = {a: tuple(str(v) for v in c.categories) for a, c in cats.items()}
        codes: npt.NDArray[np.int64] = np.zeros((len(x), len(cats)), dtype=np.int64)
        for k, c in enumerate(cats.values()):
            codes[:, k] = c.codes
        if (codes < 0).any():
            raise ValueError("groups: every unit needs a group (no missing labels)")
        order = canonical_order(x, codes)
        x, codes = x[order], codes[order]
        n, n_cols = x.shape
        offsets = np.cumsum([0] + [len(levels[a]) * n_cols for a in levels])
        rows = np.repeat(np.arange(n), len(levels) * n_cols)
        cols = (
            offsets[:-1][None, :, None] + codes[:, :, None] * n_cols + np.arange(n_cols)[None, None]
        ).ravel()
        data = np.repeat(x[:, None, :], len(levels), axis=1).ravel()
        design = sparse.csr_matrix((data, (rows, cols)), shape=(n, int(offsets[-1])))
        transposed = design.T.tocsr()

        flat_sums = np.asarray(design.sum(axis=0)).ravel()
        rng = np.random.default_rng(self.seed)
        chunk = max(1, self.max_cells // max(n, 1))
        parts = []
        for start in range(0, self.n_boot, chunk):
            counts = resample_counts(rng, n, min(chunk, self.n_boot - start))
            parts.append(np.asarray(transposed @ counts.T).T)
        flat_reps = np.vstack(parts) if n else np.zeros((self.n_boot, int(offsets[-1])))

        self.columns_ = tuple(str(c) for c in values.columns)
        self.levels_ = levels
        self.n_units_ = n
        self.sums_: dict[str, F64] = {}
        self.replicates_: dict[str, F64] = {}
        for k, a in enumerate(levels):
            lo, hi = offsets[k], offsets[k + 1]
            self.sums_[a] = flat_sums[lo:hi].reshape(len(levels[a]), n_cols)
            self.replicates_[a] = flat_reps[:, lo:hi].reshape(self.n_boot, len(levels[a]), n_cols)
        return self

    def column(self, name: str) -> int:
        """Position of a value column in the last axis of ``sums_``/``replicates_``."""
        return self.columns_.index(name)


def bootstrap_statistic(
    x: npt.ArrayLike,
    statistic: Callable[[F64], F64],
    n_boot: int,
    seed: int,
    max_cells: int = 4_000_000,
) -> F64:
    """Replicates of ``statistic`` over resamples of the units of ``x``, shape (n_boot,).

    ``statistic`` maps a (b, n) matrix of resampled values to (b,) results; units are first put
    in canonical (sorted) order so the replicates do not depend on row order.
    """
    values = np.sort(np.asarray(x, dtype=np.float64))
    n = len(values)
    if n == 0:
        return np.full(n_boot, np.nan)
    rng = np.random.default_rng(seed)
    chunk = max(1, max_cells // n)
    parts = [
        statistic(values[rng.integers(0, n, size=(min(chunk, n_boot - start), n))])
        for start in range(0, n_boot, chunk)
    ]
    return np.concatenate(parts)


__all__ = [
    "GroupedBootstrap",
    "bootstrap_statistic",
    "canonical_order",
    "exact_boundary_interval",
    "percentile_interval",
    "resample_counts",
]
