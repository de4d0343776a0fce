"""Hard constraints (SPEC §3): which therapists may be shown to which intake, and why not.

Constraints run as a funnel in :data:`matcher.results.CONSTRAINTS` order over candidate pairs; each
stage drops the pairs failing it, so later (costlier) checks see fewer pairs and each excluded
therapist is counted once, under the first constraint it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from matcher.results import CONSTRAINTS

Check = Callable[[IntakeBatch, TherapistPool, Pairs], npt.NDArray[np.bool_]]
Rule = Callable[[Any, Any], npt.NDArray[np.bool_]]
"""A constraint's formula over (intake side, therapist side): objects whose attributes are the
batch's and the pool's arrays, aligned pair by pair or broadcasting (one intake against many
therapists). :data:`CHECKS` applies them to :class:`Pairs`, :class:`CandidateIndex` to one intake
against the therapists licensed in its region."""


class Side:
    """One side of a set of pairs: attribute ``a`` is ``source.a[rows]``, gathered on first read
    and kept (reads of the same attribute by several constraints gather once)."""

    def __init__(
        self, source: IntakeBatch | TherapistPool | Side, rows: npt.NDArray[np.int64]
    ) -> None:
        self._source = source
        self._rows = rows

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._source, name)[self._rows]
        self.__dict__[name] = value
        return value


def _region(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    """Licensed in the client's region, or country-wide in the client's country."""
    words = p.regions
    return bitset.has(words, b.region) | bitset.has(words, b.country)


def _age_group(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    age = b.age_group
    served = p.age_groups >> np.maximum(age, 0).astype(np.uint64)
    return np.asarray(((served & np.uint64(1)) == 1) & (age >= 0))


def _language(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    return bitset.intersects(b.languages, p.languages)


def _format(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    return np.asarray((b.formats & p.formats) != 0)


def _payment(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    """Takes the client's payer; for self-pay also fee ≤ max_session_fee when both are known."""
    takes = bitset.has(p.payers, b.payment)
    fee, cap = p.fee, b.max_fee
    affordable = ~b.self_pay | np.isnan(cap) | np.isnan(fee) | (fee <= cap)
    return np.asarray(takes & affordable)


def _capacity(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    return np.asarray(p.accepting & (p.current_caseload < p.max_caseload))


def _availability(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    return bitset.intersects(b.availability, p.availability)


def _crisis_training(b: Any, p: Any) -> npt.NDArray[np.bool_]:
    """phq9_item9 ≥ 1: only crisis-trained therapists (SPEC §3 triage: = 1; ≥ 2 is routed to
    crisis before eligibility, and a pair that reaches it anyway stays restricted)."""
    needs = b.item9 >= 1  # NaN (unknown) never needs it
    return np.asarray(~needs | p.crisis_trained)


RULES: dict[str, Rule] = {
    "region": _region,
    "age_group": _age_group,
    "language": _language,
    "format": _format,
    "payment": _payment,
    "capacity": _capacity,
    "availability": _availability,
    "crisis_training": _crisis_training,
}
assert tuple(RULES) == CONSTRAINTS
THERAPIST_FIELDS = (
    "age_groups",
    "languages",
    "formats",
    "payers",
    "fee",
    "accepting",
    "current_caseload",
    "max_caseload",
    "availability",
    "crisis_trained",
)
"""The pool arrays the constraints after ``region`` read (:class:`CandidateIndex` keeps them per
region)."""


def _on_pairs(rule: Rule) -> Check:
    def check(b: IntakeBatch, p: TherapistPool, x: Pairs) -> npt.NDArray[np.bool_]:
        ok = rule(Side(b, x.intake_idx), Side(p, x.therapist_idx))
        return np.broadcast_to(ok, (len(x),))

    check.__doc__ = rule.__doc__
    return check


CHECKS: dict[str, Check] = {name: _on_pairs(rule) for name, rule in RULES.items()}
"""Each constraint as a mask over candidate pairs (in :data:`CONSTRAINTS` order)."""


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
    """The pool indexed by its most selective constraint, licensed region, with the arrays the
    other constraints read gathered per region. Built once per pool (serving keeps it), so a
    request touches only the therapists licensed where the client is and gathers nothing from
    the pool: its cost follows the region's size, not the pool's.

    ``members[r]`` holds the (sorted) therapist rows licensed in region code ``r`` and
    ``views[r]`` their :data:`THERAPIST_FIELDS`.
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
        self.views = [self._view(m) for m in self.members]
        self._empty = np.zeros(0, dtype=np.int64)
        self._none = self._view(self._empty)
        self._rules = list(RULES.values())[1:]

    def _view(self, rows: npt.NDArray[np.int64]) -> Side:
        view = Side(self.pool, rows)
        for name in THERAPIST_FIELDS:
            getattr(view, name)
        return view

    def licensed(self, region: int, country: int) -> npt.NDArray[np.int64]:
        """Rows (sorted) licensed in region code ``region`` or country-wide in ``country``."""
        return self._licensed(region, country)[0]

    def _licensed(self, region: int, country: int) -> tuple[npt.NDArray[np.int64], Side]:
        """Rows licensed in ``region`` or country-wide in ``country``, and their arrays."""
        wide = country >= 0 and country != region and len(self.members[country]) > 0
        if not wide:
            return (
                (self.members[region], self.views[region])
                if region >= 0
                else (
                    self._empty,
                    self._none,
                )
            )
        here = self.members[region] if region >= 0 else self._empty
        rows = np.union1d(here, self.members[country])
        return rows, Side(self.pool, rows)

    def eligible(self, batch: IntakeBatch) -> Eligibility:
        """The funnel for every intake of ``batch``, counting as :func:`eligible_pairs` does:
        per intake, each later constraint over its region's arrays (the intake's values
        broadcast), a therapist counted under the first constraint it fails."""
        n = len(batch)
        per_intake: list[npt.NDArray[np.int64]] = []
        excluded = np.zeros((n, len(CHECKS)), dtype=np.int64)
        for i in range(n):  # per intake, never per pair: each step is an array operation
            rows, view = self._licensed(int(batch.region[i]), int(batch.country[i]))
            intake = Side(batch, np.array([i]))
            alive = np.ones(len(rows), dtype=bool)
            left = len(rows)
            excluded[i, 0] = self.size - left
            for k, rule in enumerate(self._rules, start=1):
                if left < len(rows) // 2:  # later constraints read only the survivors
                    kept = np.flatnonzero(alive)
                    rows, view, alive = rows[kept], Side(view, kept), alive[kept]
                alive &= rule(intake, view)
                now = int(np.count_nonzero(alive))
                excluded[i, k] = left - now
                left = now
            per_intake.append(rows[alive])
        sizes = np.fromiter((len(t) for t in per_intake), np.int64, n)
        pairs = Pairs(
            np.repeat(np.arange(n, dtype=np.int64), sizes),
            np.concatenate(per_intake) if per_intake else self._empty,
        )
        return Eligibility(pairs, np.full(n, self.size, dtype=np.int64), excluded)


def licensed_pairs(batch: IntakeBatch, index: CandidateIndex) -> Pairs:
    """The pairs that pass the first constraint (licensed in the client's region, or
    country-wide in the client's country), intake-major with therapists ascending: what
    filtering the full cross product by ``region`` leaves, built from ``index``'s licensed rows
    per distinct (region, country) of the batch instead of tested pair by pair."""
    keys, group = np.unique(
        np.stack([batch.region, batch.country], axis=1).astype(np.int64),
        axis=0,
        return_inverse=True,
    )
    group = group.reshape(-1)
    intake_parts, therapist_parts = [], []
    for g, (region, country) in enumerate(keys.tolist()):  # per distinct region, not per pair
        rows = index.licensed(region, country)
        intakes = np.flatnonzero(group == g).astype(np.int64)
        intake_parts.append(np.repeat(intakes, len(rows)))
        therapist_parts.append(np.tile(rows, len(intakes)))
    if not intake_parts:
        return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
    intake_idx, therapist_idx = np.concatenate(intake_parts), np.concatenate(therapist_parts)
    order = np.argsort(intake_idx, kind="stable")
    return Pairs(intake_idx[order], therapist_idx[order])


def eligible_pairs(
    batch: IntakeBatch,
    pool: TherapistPool,
    *,
    max_block_pairs: int = 4_000_000,
    index: CandidateIndex | None = None,
) -> Eligibility:
    """Every intake against the whole pool — through ``index`` when one is given (same result,
    cost proportional to the candidates in each intake's region), else in blocks of intakes
    (at most ``max_block_pairs`` intake × pool pairs each, to bound memory): each block's
    licensed pairs (:func:`licensed_pairs`) through the other constraints."""
    if index is not None:
        return index.eligible(batch)
    n, m = len(batch), len(pool)
    block = max(1, max_block_pairs // max(m, 1))
    licensed = CandidateIndex(pool)
    parts: list[Eligibility] = []
    for start in range(0, n, block):
        rows = np.arange(start, min(n, start + block))
        sub = batch.take(rows)
        pairs = licensed_pairs(sub, licensed)
        part = filter_pairs(sub, pool, pairs, start=1)
        excluded = part.excluded
        excluded[:, 0] = m - np.bincount(pairs.intake_idx, minlength=len(rows))
        parts.append(
            Eligibility(
                Pairs(part.pairs.intake_idx + start, part.pairs.therapist_idx),
                np.full(len(rows), m, dtype=np.int64),
                excluded,
            )
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
    "RULES",
    "THERAPIST_FIELDS",
    "CandidateIndex",
    "Eligibility",
    "Side",
    "eligible_pairs",
    "failing_constraint",
    "filter_pairs",
    "licensed_pairs",
]
