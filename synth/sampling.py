"""Vectorised random draws the profile generators share (per-row categoricals, ordered subsets,
weekly hours) and the conversion of membership matrices to list cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from features.vocab import HOURS_PER_WEEK

Rng = np.random.Generator
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

WEEKDAYS = np.arange(5)
WEEKEND = np.arange(5, 7)
PATTERNS: dict[str, tuple[npt.NDArray[np.int64], range]] = {
    # name: (days, local hours)
    "weekday_morning": (WEEKDAYS, range(8, 12)),
    "weekday_daytime": (WEEKDAYS, range(12, 17)),
    "weekday_evening": (WEEKDAYS, range(17, 21)),
    "weekend": (WEEKEND, range(9, 17)),
}
"""Weekly availability patterns, in local time."""


def categorical(rng: Rng, probs: npt.ArrayLike, size: int | None = None) -> I64:
    """One category per row: ``probs`` is ``(K,)`` (shared, needs ``size``) or ``(n, K)``.

    Rows are normalised, so weights need not sum to 1.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = np.broadcast_to(p, (int(size or 0), len(p)))
    cum = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), p.shape[1] - 1).astype(np.int64)


def ordered_subset(rng: Rng, weights: npt.ArrayLike, sizes: I64) -> tuple[I64, B]:
    """Per row, ``sizes[r]`` distinct items drawn by weight without replacement, in draw order.

    Gumbel top-k: argsort(log w + Gumbel) gives a weighted sample without replacement. Returns the
    ``(n, max size)`` item codes and the mask of the ones drawn.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = np.broadcast_to(w, (len(sizes), len(w)))
    with np.errstate(divide="ignore"):
        keys = np.log(w) + rng.gumbel(size=w.shape)
    width = int(min(max(int(sizes.max(initial=1)), 1), w.shape[1]))
    order = np.argsort(-keys, axis=1, kind="stable")[:, :width]
    drawn = np.arange(width)[None, :] < np.minimum(sizes, (w > 0).sum(axis=1))[:, None]
    return order.astype(np.int64), drawn


def lists_from_codes(codes: I64, drawn: B, values: Sequence[Any]) -> list[list[Any]]:
    """Row-wise lists of ``values[code]`` for the drawn cells, keeping column order."""
    table = np.asarray(values, dtype=object)
    flat = table[codes[drawn]].tolist()
    ends = np.cumsum(drawn.sum(axis=1)).tolist()
    starts = [0, *ends[:-1]]
    return [flat[a:b] for a, b in zip(starts, ends, strict=True)]


def lists_from_mask(mask: B, values: Sequence[Any]) -> list[list[Any]]:
    """Row-wise lists of ``values[k]`` for the True cells of a membership matrix."""
    codes = np.broadcast_to(np.arange(mask.shape[1]), mask.shape).astype(np.int64)
    return lists_from_codes(codes, mask, values)


def weekly_hours(rng: Rng, pattern_p: npt.ArrayLike, utc_offset: I64) -> B:
    """``(n, 168)`` UTC hours of the week a person is free.

    Each person takes each pattern of :data:`PATTERNS` with probability ``pattern_p`` (at least
    one), keeps each day of a taken pattern with a personal probability in [0.4, 1] and each hour
    with one in [0.5, 1]; local hours are then shifted to UTC by ``utc_offset``.
    """
    n = len(utc_offset)
    p = np.broadcast_to(np.asarray(pattern_p, dtype=np.float64), (n, len(PATTERNS)))
    taken = rng.random(p.shape) < p
    none = ~taken.any(axis=1)
    taken[np.flatnonzero(none), categorical(rng, p[none])] = True
    local = np.zeros((n, 7, 24), dtype=bool)
    for k, (days, hours) in enumerate(PATTERNS.values()):
        block = np.zeros((7, 24), dtype=bool)
        block[np.ix_(days, np.asarray(hours))] = True
        local |= taken[:, k, None, None] & block[None]
    day_keep = rng.random((n, 7)) < rng.uniform(0.4, 1.0, (n, 1))
    hour_keep = rng.random((n, 7, 24)) < rng.uniform(0.5, 1.0, (n, 1, 1))
    thinned = local & day_keep[:, :, None] & hour_keep
    empty = ~thinned.any(axis=(1, 2))
    thinned[empty] = local[empty]
    flat_local = thinned.reshape(n, HOURS_PER_WEEK)
    # local = UTC + offset, so UTC hour h is local hour h + offset.
    shift = (np.arange(HOURS_PER_WEEK)[None, :] + utc_offset[:, None]) % HOURS_PER_WEEK
    return np.take_along_axis(flat_local, shift, axis=1)


def per_value(keys: npt.ArrayLike, fn: Callable[[str], Any]) -> npt.NDArray[np.object_]:
    """``fn(key)`` for each key, computed once per distinct key (keys are few, rows many)."""
    distinct, inverse = np.unique(np.asarray(keys).astype(str), return_inverse=True)
    table = np.empty(len(distinct), dtype=object)
    table[:] = [fn(str(k)) for k in distinct]
    return table[inverse.reshape(-1)]


__all__ = [
    "PATTERNS",
    "categorical",
    "lists_from_codes",
    "lists_from_mask",
    "ordered_subset",
    "per_value",
    "weekly_hours",
]
