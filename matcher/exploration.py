"""Safe exploration: shuffle only near-equivalent candidates, with exact propensities (SPEC §7).

Among one intake's scored candidates (already past every hard constraint and the safety
triage), candidates whose ordering score is within a relative ``tolerance`` of each other form a
block: with s_1 the intake's best score, block b holds the candidates with
⌊log(s_1/s) / −log(1 − tolerance)⌋ = b, so any two in a block differ by less than ``tolerance``
relatively. Blocks keep their order; inside a block the order is a uniform random permutation
drawn from a seed derived from the request id (the same request id gives the same list). For a
candidate in a block of m members occupying positions [a, a + m):

  μ(t, k) = 1/m for every k in [a, a + m)  (item-position propensity)
  P(shown in top k) = |[a, a + m) ∩ [1, k]| / m

Intakes that must not be explored (severe symptoms: the in-person routing order is a safety
rule; or exploration off) keep the deterministic order with propensity 1. Crisis intakes have no
candidates at all, and phq9_item9 = 1 intakes only crisis-trained ones, so no shuffle can cross a
hard constraint or a safety rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matcher.ranking import rank_within_groups

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]
DEFAULT_TOLERANCE = 0.02
"""Default relative tolerance: candidates within 2% of each other's score count as equivalent."""
EXPLORE_PREFIX = "explore:"
MIN_TOLERANCE = 1e-6
"""Tolerances below this switch exploration off."""


@dataclass(frozen=True)
class Explored:
    """The explored order of every scored pair and its propensities."""

    order: F64
    """Ordering key (higher first); ranks within intakes follow it."""
    propensity: F64
    """μ(t, k) of each pair at any position of its block (1 where not explored)."""
    shown_propensity: F64
    """P(the pair lands in the top ``top_k``)."""
    explored: B
    """Per intake: whether its list was randomised."""
    block_start: I64
    """0-based first position of each pair's block (its own position where not shuffled)."""
    block_size: I64


def request_seeds(keys: Sequence[str]) -> U64:
    """A 64-bit seed per request id (stable across processes, unlike ``hash``)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "little")
            for k in keys
        ],
        dtype=np.uint64,
    )


def _mix(x: U64) -> U64:
    """splitmix64 finaliser: a vectorised, well-mixed hash of 64-bit integers."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def explore(
    group: I64,
    score: F64,
    item: I64,
    *,
    seeds: U64,
    allowed: B,
    top_k: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Explored:
    """Shuffle each allowed intake's near-equivalent candidates (module docstring).

    ``group`` is the intake row of each pair, ``item`` a stable therapist index (the random key
    of a pair is hash(seed of its request, item)), ``seeds`` and ``allowed`` are per intake.
    """
    n_groups = len(seeds)
    rank = rank_within_groups(group, score)
    top = np.full(n_groups, -np.inf)
    np.maximum.at(top, group, score)
    positive = (score > 0) & (top[group] > 0)
    on = MIN_TOLERANCE <= tolerance < 1
    width = -np.log1p(-tolerance) if on else 1.0
    ratio = np.log(np.where(positive, top[group], 1.0) / np.where(positive, score, 1.0))
    block = np.floor(ratio / width).astype(np.int64)
    shuffle = allowed[group] & positive & on
    # a pair that may not move is a block of its own, placed by its rank (blocks are monotone
    # in score, so an offset keeps the two kinds apart without reordering)
    block = np.where(shuffle, block, -1)
    u = _mix(seeds[group] ^ _mix(item.astype(np.uint64))).astype(np.float64) / 2.0**64
    fixed = ~shuffle
    # order: by group, then for fixed pairs their rank, for shuffled their block then u; both are
    # monotone in score, so merge on the rank of the block's first member
    block_key = np.where(fixed, rank, 0).astype(np.int64)
    first_rank = _block_first_rank(group, block, rank, shuffle)
    block_key = np.where(shuffle, first_rank, block_key)
    order_idx = np.lexsort((np.where(shuffle, u, 0.0), block_key, group))
    position = np.empty(len(score), dtype=np.int64)
    sorted_group = group[order_idx]
    starts = np.r_[0, np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order_idx)])
    position[order_idx] = np.arange(len(order_idx)) - np.repeat(starts, sizes)
    # block sizes and starts
    size = np.ones(len(score))
    start = position.astype(np.float64)
    if shuffle.any():
        gk = group[shuffle] * (int(block[shuffle].max(initial=0)) + 2) + block[shuffle]
        _, inv, counts = np.unique(gk, return_inverse=True, return_counts=True)
        size[shuffle] = counts[inv]
        start[shuffle] = first_rank[shuffle]
    in_top = np.clip(np.minimum(start + size, top_k) - start, 0, None)
    return Explored(
        order=-position.astype(np.float64),
        propensity=1.0 / size,
        shown_propensity=np.minimum(in_top / size, 1.0),
        explored=np.bincount(group, weights=shuffle & (size > 1), minlength=n_groups) > 0,
        block_start=start.astype(np.int64),
        block_size=size.astype(np.int64),
    )


def _block_first_rank(group: I64, block: I64, rank: I64, shuffle: B) -> I64:
    """Rank of the best member of each shuffled pair's block (its block's first position)."""
    out = np.zeros(len(group), dtype=np.int64)
    if not shuffle.any():
        return out
    width = int(block[shuffle].max(initial=0)) + 2
    gk = group[shuffle].astype(np.int64) * width + block[shuffle]
    _, inv = np.unique(gk, return_inverse=True)
    first = np.full(int(inv.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, inv, rank[shuffle])
    out[shuffle] = first[inv]
    return out


__all__ = ["DEFAULT_TOLERANCE", "EXPLORE_PREFIX", "Explored", "explore", "request_seeds"]
