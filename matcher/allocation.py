"""Batch capacity allocation (SPEC §3): a cohort of intakes → at most one therapist each.

Given eligible pairs ``(i, j)`` with predicted benefit ``b_ij`` and therapist open slots ``s_j``,
:func:`allocate` solves the capacitated assignment (a min-cost flow / b-matching) exactly::

    maximise    Σ_ij b_ij · x_ij
    subject to  Σ_j x_ij ≤ 1          for every intake i        (at most one therapist)
                Σ_i x_ij ≤ ⌊s_j⌋₊     for every therapist j     (never beyond open slots)
                x_ij ∈ {0, 1},  x_ij = 0 unless (i, j) is a pair with b_ij ≥ min_benefit

:func:`greedy_top1` is the naive baseline it is benchmarked against (``bench/allocation.py``).
Both return, per intake, the pool row of its therapist or −1 (unplaced).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from features.encoding import Pairs

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

UNPLACED = -1
TIE_BONUS = 1e-9
"""Per-placement bonus, relative to max(1, max benefit): the tie rule of :func:`allocate`."""


def slot_counts(open_slots: npt.ArrayLike, n_intakes: int) -> I64:
    """Open slots as usable integers: ⌊s_j⌋, NaN/negative → 0, capped at the cohort size."""
    slots = np.nan_to_num(np.asarray(open_slots, dtype=np.float64), nan=0.0, posinf=n_intakes)
    return np.clip(np.floor(slots), 0, n_intakes).astype(np.int64)


def _admissible(
    pairs: Pairs, benefit: npt.ArrayLike, n_therapists: int, n_intakes: int, floor: float
) -> tuple[I64, I64, F64]:
    """Valid pairs with a finite benefit ≥ ``floor``, one per (i, j) (the best if repeated)."""
    i = np.asarray(pairs.intake_idx, dtype=np.int64)
    j = np.asarray(pairs.therapist_idx, dtype=np.int64)
    b = np.asarray(benefit, dtype=np.float64)
    if not (len(i) == len(j) == len(b)):
        raise ValueError(f"pairs ({len(i)}) and benefit ({len(b)}) differ in length")
    if len(i) and (i.min() < 0 or i.max() >= n_intakes or j.min() < 0 or j.max() >= n_therapists):
        raise ValueError("pair indices out of range of n_intakes / open_slots")
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(b) & (b >= floor)
    i, j, b = i[keep], j[keep], b[keep]
    order = np.lexsort((-b, j, i))
    i, j, b = i[order], j[order], b[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    return i[first], j[first], b[first]


def _segment_exclusive_cumsum(values: I64, starts: npt.NDArray[np.bool_]) -> I64:
    """Within each segment (a new one begins where ``starts``), the sum of earlier values."""
    total = np.cumsum(values) - values
    seg_base = np.maximum.accumulate(np.where(starts, total, 0))
    return total - seg_base


def allocate(
    pairs: Pairs,
    benefit: npt.ArrayLike,
    open_slots: npt.ArrayLike,
    n_intakes: int,
    *,
    min_benefit: float = 0.0,
) -> I64:
    """The allocation of maximal total benefit Σ b_ij under the constraints of the module doc.

    ``pairs`` are the eligible (intake, therapist-row) pairs, ``benefit`` their predicted benefit,
    ``open_slots`` is indexed by therapist row (floored, NaN/negative = 0). Pairs with a benefit
    below ``max(min_benefit, 0)`` or NaN are never assigned (a negative benefit can only lower
    the total). Returns, per intake, its therapist's row or −1.

    Tie rule: each placement earns a bonus ε = 1e-9·max(1, max b), i.e. the solver maximises
    Σ (b_ij + ε) x_ij, so between allocations of equal total benefit (or totals closer than ε
    per extra placement) the one placing more intakes wins; a pair of benefit exactly 0 is
    therefore assigned when a slot is free. Remaining ties go to the solver's choice, which is
    deterministic for the same input.

    Method: each therapist j becomes c_j = min(⌊s_j⌋, its eligible intakes) identical slot columns
    and each intake gets a private "unplaced" column; a sparse min-cost full matching of intakes
    (LAPJVsp, :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`) with costs
    K − (b + ε) on slots and K on the private column (K = max(b + ε) + 1, so all costs are > 0)
    is then exactly the problem above. Exact pruning bounds its size: with intake i's therapists
    ordered by (b desc, row asc), an optimal allocation exists in which every therapist ahead of
    i's own is full, so a pair is kept only while the slots ahead of it sum to < the number of
    competing intakes; edges ≤ n·(n + max c_j).
    """
    slots = slot_counts(open_slots, n_intakes)
    out = np.full(n_intakes, UNPLACED, dtype=np.int64)
    i, j, b = _admissible(pairs, benefit, len(slots), n_intakes, max(min_benefit, 0.0))
    usable = slots[j] > 0
    i, j, b = i[usable], j[usable], b[usable]
    if len(i) == 0:
        return out
    w = b + TIE_BONUS * max(1.0, float(b.max()))
    i, j, w = _prune(i, j, w, np.minimum(slots, np.bincount(j, minlength=len(slots))))
    cap = np.minimum(slots, np.bincount(j, minlength=len(slots)))
    intakes, therapists = _match(i, j, w, cap, n_intakes)
    out[intakes] = therapists
    return out


def _prune(i: I64, j: I64, w: F64, cap: I64) -> tuple[I64, I64, F64]:
    """Drop pairs no optimum needs (see :func:`allocate`); result sorted by (i, w desc, j)."""
    order = np.lexsort((j, -w, i))
    i, j, w = i[order], j[order], w[order]
    new_intake = np.r_[True, i[1:] != i[:-1]]
    keep = _segment_exclusive_cumsum(cap[j], new_intake) < np.count_nonzero(new_intake)
    return i[keep], j[keep], w[keep]


def _match(i: I64, j: I64, w: F64, cap: I64, n_intakes: int) -> tuple[I64, I64]:
    """Min-cost full matching of intakes to slot columns or private "unplaced" columns.

    Returns the placed intakes and their therapists.
    """
    intakes = np.unique(i)
    row_of = np.full(n_intakes, -1, dtype=np.int64)
    row_of[intakes] = np.arange(len(intakes))
    col_start = np.cumsum(cap) - cap
    col_owner = np.repeat(np.arange(len(cap)), cap)
    n_slots = len(col_owner)

    copies = cap[j]
    edge = np.repeat(np.arange(len(i)), copies)
    copy = np.arange(len(edge)) - np.repeat(np.cumsum(copies) - copies, copies)
    big = float(w.max()) + 1.0
    rows = np.concatenate([row_of[i[edge]], np.arange(len(intakes))])
    cols = np.concatenate([col_start[j[edge]] + copy, n_slots + np.arange(len(intakes))])
    cost = np.concatenate([big - w[edge], np.full(len(intakes), big)])
    graph = csr_array((cost, (rows, cols)), shape=(len(intakes), n_slots + len(intakes)))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    placed = col_ind < n_slots
    return intakes[row_ind[placed]], col_owner[col_ind[placed]]


def greedy_top1(
    pairs: Pairs,
    benefit: npt.ArrayLike,
    open_slots: npt.ArrayLike,
    n_intakes: int,
    *,
    min_benefit: float = 0.0,
) -> I64:
    """Naive baseline: intakes in index order each take their best therapist with a free slot.

    Same arguments and result as :func:`allocate`; pairs with benefit < ``min_benefit`` or NaN
    are skipped. Ties between therapists go to the lower pool row. With unbounded
    ``open_slots`` this is "top-1 without capacity": everyone gets their own best.
    """
    slots = slot_counts(open_slots, n_intakes)
    out = np.full(n_intakes, UNPLACED, dtype=np.int64)
    i, j, b = _admissible(pairs, benefit, len(slots), n_intakes, min_benefit)
    order = np.lexsort((j, -b, i))
    i, j = i[order], j[order]
    bounds: list[int] = (
        np.flatnonzero(np.r_[True, i[1:] != i[:-1], True]).tolist() if len(i) else []
    )
    for start, stop in pairwise(bounds):
        candidates = j[start:stop]
        free = np.flatnonzero(slots[candidates] > 0)
        if len(free):
            best = candidates[free[0]]
            slots[best] -= 1
            out[i[start]] = best
    return out


def assigned_pair(pairs: Pairs, assignment: npt.ArrayLike) -> I64:
    """Per intake, the index into ``pairs`` of its assigned (intake, therapist) pair, or −1.

    A pair listed more than once resolves to its first occurrence.

    Lets a caller read the assigned pair's benefit/score: ``benefit[idx]`` where ``idx ≥ 0``.
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    out = np.full(len(assignment), -1, dtype=np.int64)
    placed = np.flatnonzero(assignment >= 0)
    if len(pairs) == 0 or len(placed) == 0:
        return out
    width = int(max(assignment.max(), pairs.therapist_idx.max())) + 1
    keys = pairs.intake_idx * width + pairs.therapist_idx
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = placed * width + assignment[placed]
    pos = np.minimum(np.searchsorted(sorted_keys, wanted), len(keys) - 1)
    found = sorted_keys[pos] == wanted
    out[placed[found]] = order[pos[found]]
    return out


__all__ = ["TIE_BONUS", "UNPLACED", "allocate", "assigned_pair", "greedy_top1", "slot_counts"]
