"""Who could have been shown to whom: eligible (intake, therapist) pairs, in bounded blocks.

Eligibility is :func:`matcher.eligibility.filter_pairs` (SPEC §3 hard constraints, including
crisis-trained therapists only for phq9_item9 = 1), and intakes routed to crisis get no pairs. A
join on licence codes replaces the full intake × pool cross product, and blocks of intakes keep
memory bounded however large the pool (one region with 20,000 therapists included).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from matcher.eligibility import filter_pairs
from matcher.triage import Route, triage

I64 = npt.NDArray[np.int64]
MAX_BLOCK_PAIRS = 1_000_000


class LicenceIndex:
    """Therapist rows sorted by licence code, to list who is licensed where without a cross."""

    def __init__(self, batch: IntakeBatch, pool: TherapistPool) -> None:
        rows, codes = np.nonzero(bitset.members(pool.regions, len(pool.regions_vocab)))
        order = np.argsort(codes, kind="stable")
        self.rows, self.codes = rows[order].astype(np.int64), codes[order].astype(np.int64)
        self.n_therapists = len(pool)
        # an intake is served by licences in its region and in its whole country
        self.intake_codes = np.stack([batch.region, batch.country], axis=1)
        self.start = np.searchsorted(self.codes, self.intake_codes, side="left")
        end = np.searchsorted(self.codes, self.intake_codes, side="right")
        self.count = np.where(self.intake_codes >= 0, end - self.start, 0)

    def pairs(self, lo: int, hi: int) -> Pairs:
        """Licensed pairs of intakes ``lo..hi−1``, sorted by (intake, therapist), no duplicates."""
        count, start = self.count[lo:hi].ravel(), self.start[lo:hi].ravel()
        intake = np.repeat(np.arange(lo, hi), 2)
        within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        therapist = self.rows[np.repeat(start, count) + within]
        width = max(self.n_therapists, 1)
        key = np.sort(np.repeat(intake, count) * width + therapist)
        # a neighbour test after np.sort: far faster than np.unique on millions of keys
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
        return Pairs((key // width).astype(np.int64), (key % width).astype(np.int64))


def candidate_blocks(
    batch: IntakeBatch, pool: TherapistPool, *, max_block_pairs: int = MAX_BLOCK_PAIRS
) -> Iterator[Pairs]:
    """Eligible pairs of non-crisis intakes, one block of consecutive intakes at a time (each
    block holds about ``max_block_pairs`` licensed pairs before the funnel)."""
    if len(batch) == 0:
        return
    index = LicenceIndex(batch, pool)
    crisis = triage(batch).route == Route.CRISIS
    load = np.where(crisis, 0, index.count.sum(axis=1))
    block = (np.cumsum(load) - load) // max(max_block_pairs, 1)
    edges = np.flatnonzero(np.r_[True, block[1:] != block[:-1], True])
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        pairs = filter_pairs(batch, pool, index.pairs(lo, hi)).pairs
        yield pairs.take(~crisis[pairs.intake_idx])


def candidate_pairs(batch: IntakeBatch, pool: TherapistPool) -> Pairs:
    """All eligible pairs of non-crisis intakes, sorted by (intake, therapist): the same pairs as
    :func:`matcher.eligibility.eligible_pairs` minus the crisis intakes."""
    blocks = list(candidate_blocks(batch, pool))
    if not blocks:
        return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Pairs(
        np.concatenate([b.intake_idx for b in blocks]),
        np.concatenate([b.therapist_idx for b in blocks]),
    )


__all__ = ["MAX_BLOCK_PAIRS", "LicenceIndex", "candidate_blocks", "candidate_pairs"]
