"""Hard constraints (SPEC §3): which therapists may be shown to which intake, and why not.

Constraints run as a funnel in :data:`matcher.results.CONSTRAINTS` order over candidate pairs; each
stage drops the pairs failing it, so later (costlier) checks see fewer pairs and each excluded
therapist is counted once, under the first constraint it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from matcher.results import CONSTRAINTS

Check = Callable[[IntakeBatch, TherapistPool, Pairs], npt.NDArray[np.bool_]]


def _region(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    """Licensed in the client's region, or country-wide in the client's country."""
    words = p.regions[x.therapist_idx]
    return bitset.has(words, b.region[x.intake_idx]) | bitset.has(words, b.country[x.intake_idx])


def _age_group(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    age = b.age_group[x.intake_idx]
    served = p.age_groups[x.therapist_idx] >> np.maximum(age, 0).astype(np.uint64)
    return ((served & np.uint64(1)) == 1) & (age >= 0)


def _language(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    return bitset.intersects(b.languages[x.intake_idx], p.languages[x.therapist_idx])


def _format(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    return (b.formats[x.intake_idx] & p.formats[x.therapist_idx]) != 0


def _payment(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    """Takes the client's payer; for self-pay also fee ≤ max_session_fee when both are known."""
    i, j = x.intake_idx, x.therapist_idx
    takes = bitset.has(p.payers[j], b.payment[i])
    fee, cap = p.fee[j], b.max_fee[i]
    affordable = ~b.self_pay[i] | np.isnan(cap) | np.isnan(fee) | (fee <= cap)
    return takes & affordable


def _capacity(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    j = x.therapist_idx
    return p.accepting[j] & (p.current_caseload[j] < p.max_caseload[j])


def _availability(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    return bitset.intersects(b.availability[x.intake_idx], p.availability[x.therapist_idx])


def _crisis_training(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
    """phq9_item9 = 1 (SPEC §3 triage): only crisis-trained therapists."""
    needs = np.nan_to_num(b.item9[x.intake_idx]) >= 1
    return ~needs | p.crisis_trained[x.therapist_idx]


CHECKS: dict[str, Check] = {
    "region": _region,
    "age_group": _age_group,
    "language": _language,
    "format": _format,
    "payment": _payment,
    "capacity": _capacity,
    "availability": _availability,
    "crisis_training": _crisis_training,
}
assert tuple(CHECKS) == CONSTRAINTS


@dataclass(frozen=True)
class Eligibility:
    """Eligible pairs plus, per intake, the candidates considered and the funnel counts."""

    pairs: Pairs
    candidates: npt.NDArray[np.int64]
    excluded: npt.NDArray[np.int64]
    """``(n_intakes, len(CONSTRAINTS))``: therapists removed by each constraint, in order."""

    @property
    def n_eligible(self) -> npt.NDArray[np.int64]:
        """Eligible therapists per intake."""
        return np.bincount(self.pairs.intake_idx, minlength=len(self.candidates))

    def excluded_for(self, intake: int) -> dict[str, int]:
        """The funnel counts of one intake, by constraint name."""
        return {name: int(n) for name, n in zip(CONSTRAINTS, self.excluded[intake], strict=True)}


def failing_constraint(
    batch: IntakeBatch, pool: TherapistPool, pairs: Pairs
) -> npt.NDArray[np.int64]:
    """Index in CONSTRAINTS of the first constraint each pair fails; −1 for eligible pairs."""
    first = np.full(len(pairs), -1, dtype=np.int64)
    alive = np.arange(len(pairs))
    for k, check in enumerate(CHECKS.values()):
        ok = check(batch, pool, pairs.take(alive))
        first[alive[~ok]] = k
        alive = alive[ok]
    return first


def filter_pairs(
    batch: IntakeBatch, pool: TherapistPool, pairs: Pairs, *, start: int = 0
) -> Eligibility:
    """Apply the funnel to given candidate pairs (from constraint number ``start`` on)."""
    n = len(batch)
    excluded = np.zeros((n, len(CHECKS)), dtype=np.int64)
    candidates = np.bincount(pairs.intake_idx, minlength=n)
    for k, check in enumerate(CHECKS.values()):
        if k < start:
            continue
        ok = check(batch, pool, pairs)
        excluded[:, k] = np.bincount(pairs.intake_idx[~ok], minlength=n)
        pairs = pairs.take(ok)
    return Eligibility(pairs, candidates, excluded)


class CandidateIndex:
    """The pool indexed by its two most selective leading constraints: licensed region and age
    group served. Built once per pool (serving keeps it), so a request touches only the
    therapists licensed where the client is: its cost follows the region's size, not the pool's.

    ``members[r]`` holds the (sorted) therapist rows licensed in region code ``r``;
    ``serves[a]`` whether each therapist serves age-group code ``a``.
    """

    def __init__(self, pool: TherapistPool) -> None:
        self.pool = pool
        self.size = len(pool)
        width = len(pool.regions_vocab)
        licensed = bitset.members(pool.regions, width) if width else np.zeros((len(pool), 0), bool)
        rows, codes = np.nonzero(licensed)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(width + 1))
        therapists = rows[order].astype(np.int64)
        self.members = [therapists[bounds[r] : bounds[r + 1]] for r in range(width)]
        shifts = np.arange(8, dtype=np.uint64)  # age-group codes (4 today)
        self.serves = ((pool.age_groups[None, :] >> shifts[:, None]) & np.uint64(1)) == 1
        self._empty = np.zeros(0, dtype=np.int64)

    def _licensed(self, region: int, country: int) -> npt.NDArray[np.int64]:
        here = self.members[region] if region >= 0 else self._empty
        wide = self.members[country] if country >= 0 and country != region else self._empty
        return here if not len(wide) else np.union1d(here, wide)

    def eligible(self, batch: IntakeBatch) -> Eligibility:
        """The funnel for every intake of ``batch``, counting as :func:`eligible_pairs` does."""
        n = len(batch)
        per_intake: list[npt.NDArray[np.int64]] = []
        excluded = np.zeros((n, len(CHECKS)), dtype=np.int64)
        for i in range(n):  # per intake, never per pair: each step is an array operation
            licensed = self._licensed(int(batch.region[i]), int(batch.country[i]))
            age = int(batch.age_group[i])
            served = licensed[self.serves[age][licensed]] if age >= 0 else self._empty
            excluded[i, 0] = self.size - len(licensed)
            excluded[i, 1] = len(licensed) - len(served)
            per_intake.append(served)
        sizes = np.fromiter((len(t) for t in per_intake), np.int64, n)
        pairs = Pairs(
            np.repeat(np.arange(n, dtype=np.int64), sizes),
            np.concatenate(per_intake) if per_intake else self._empty,
        )
        rest = filter_pairs(batch, self.pool, pairs, start=2)
        excluded[:, 2:] = rest.excluded[:, 2:]
        return Eligibility(rest.pairs, np.full(n, self.size, dtype=np.int64), excluded)


def eligible_pairs(
    batch: IntakeBatch,
    pool: TherapistPool,
    *,
    max_block_pairs: int = 4_000_000,
    index: CandidateIndex | None = None,
) -> Eligibility:
    """Every intake against the whole pool — through ``index`` when one is given (same result,
    cost proportional to the candidates in each intake's region), else in blocks of intakes
    over the full cross product to bound memory."""
    if index is not None:
        return index.eligible(batch)
    n, m = len(batch), len(pool)
    block = max(1, max_block_pairs // max(m, 1))
    parts: list[Eligibility] = []
    for start in range(0, n, block):
        stop = min(n, start + block)
        cross = Pairs.cross(stop - start, m)
        cross = Pairs(cross.intake_idx + start, cross.therapist_idx)
        part = filter_pairs(batch, pool, cross)
        parts.append(
            Eligibility(part.pairs, part.candidates[start:stop], part.excluded[start:stop])
        )
    if not parts:
        return Eligibility(
            Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64)),
            np.zeros(0, np.int64),
            np.zeros((0, len(CHECKS)), np.int64),
        )
    return Eligibility(
        Pairs(
            np.concatenate([p.pairs.intake_idx for p in parts]),
            np.concatenate([p.pairs.therapist_idx for p in parts]),
        ),
        np.concatenate([p.candidates for p in parts]),
        np.concatenate([p.excluded for p in parts]),
    )


__all__ = [
    "CHECKS",
    "CandidateIndex",
    "Eligibility",
    "eligible_pairs",
    "failing_constraint",
    "filter_pairs",
]
