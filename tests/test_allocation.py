"""Batch capacity allocation: hand-checked cases, brute force and LP cross-checks, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_array, vstack

from features.encoding import Pairs
from matcher.allocation import TIE_BONUS, allocate, assigned_pair, greedy_top1


def _pairs(i: list[int], j: list[int]) -> Pairs:
    return Pairs(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))


def _total(pairs: Pairs, benefit: np.ndarray, assignment: np.ndarray) -> float:
    idx = assigned_pair(pairs, assignment)
    return float(np.asarray(benefit, dtype=float)[idx[idx >= 0]].sum())


def _check_feasible(
    pairs: Pairs, benefit: np.ndarray, slots: np.ndarray, n: int, a: np.ndarray, *, floor: float
) -> None:
    """At most one therapist each, only admissible pairs, never beyond ⌊slots⌋."""
    assert a.shape == (n,)
    assert a.dtype == np.int64
    placed = np.flatnonzero(a >= 0)
    idx = assigned_pair(pairs, a)
    assert (idx[placed] >= 0).all(), "assigned an ineligible pair"
    assert (np.asarray(benefit)[idx[placed]] >= floor).all()
    usable = np.floor(np.nan_to_num(np.asarray(slots, dtype=float), nan=0.0)).clip(min=0)
    counts = np.bincount(a[placed], minlength=len(slots))
    assert (counts <= usable).all(), "exceeded open slots"


def _brute_force(
    pairs: Pairs, benefit: np.ndarray, slots: np.ndarray, n: int, floor: float
) -> tuple[float, int]:
    """(max total benefit, most placements among allocations reaching it) by enumeration."""
    usable = np.floor(np.nan_to_num(slots, nan=0.0)).clip(min=0)
    options: list[list[tuple[int, float]]] = [[(-1, 0.0)] for _ in range(n)]
    best: dict[tuple[int, int], float] = {}
    for i, j, b in zip(pairs.intake_idx, pairs.therapist_idx, benefit, strict=True):
        if np.isfinite(b) and b >= floor:
            best[(int(i), int(j))] = max(best.get((int(i), int(j)), -np.inf), float(b))
    for (i, j), b in best.items():
        options[i].append((j, b))
    top = (0.0, 0)
    for choice in itertools.product(*options):
        js = [j for j, _ in choice if j >= 0]
        if (np.bincount(js, minlength=len(slots)) <= usable).all() if js else True:
            top = max(top, (sum(b for _, b in choice), len(js)))
    return top


def _lp_optimum(pairs: Pairs, benefit: np.ndarray, slots: np.ndarray, n: int) -> float:
    """The LP relaxation's optimum; the constraint matrix is totally unimodular, so it is exact."""
    k, m = len(pairs), len(slots)
    if k == 0:
        return 0.0
    col = np.arange(k)
    rows_i = coo_array((np.ones(k), (pairs.intake_idx, col)), shape=(n, k))
    rows_j = coo_array((np.ones(k), (pairs.therapist_idx, col)), shape=(m, k))
    res = linprog(
        -np.maximum(benefit, 0.0),
        A_ub=vstack([rows_i, rows_j]),
        b_ub=np.r_[np.ones(n), np.floor(slots)],
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0
    return float(-res.fun)


# --- hand-checked cases ----------------------------------------------------------------------


def test_greedy_is_suboptimal_and_optimum_is_found() -> None:
    # intake 0: T0 .9, T1 .8 · intake 1: T0 .7 only · one slot each.
    pairs, benefit = _pairs([0, 0, 1], [0, 1, 0]), np.array([0.9, 0.8, 0.7])
    slots = np.array([1.0, 1.0])
    greedy = greedy_top1(pairs, benefit, slots, 2)
    best = allocate(pairs, benefit, slots, 2)
    assert greedy.tolist() == [0, -1]
    assert _total(pairs, benefit, greedy) == pytest.approx(0.9)
    assert best.tolist() == [1, 0]
    assert _total(pairs, benefit, best) == pytest.approx(1.5)


def test_scarce_slots_go_to_the_largest_benefits() -> None:
    pairs, benefit = _pairs([0, 1, 2], [0, 0, 0]), np.array([0.5, 0.9, 0.7])
    assert allocate(pairs, benefit, np.array([2.0]), 3).tolist() == [-1, 0, 0]


def test_tie_prefers_more_placements() -> None:
    # {0→T0} and {0→T1, 1→T0} both total 1.0: the rule places both intakes.
    pairs, benefit = _pairs([0, 0, 1], [0, 1, 0]), np.array([1.0, 0.5, 0.5])
    assert allocate(pairs, benefit, np.array([1.0, 1.0]), 2).tolist() == [1, 0]


def test_tie_rule_places_everyone_on_zero_benefit_ties() -> None:
    # Every usable pair has benefit 0: the only placing-both allocation is 0→T2, 1→T0.
    pairs = _pairs([0, 0, 0, 1, 1], [0, 1, 2, 0, 1])
    benefit = np.array([0.0, 1.0, 0.0, 0.0, 0.5])
    assert allocate(pairs, benefit, np.array([1.0, 0.0, 2.0]), 2).tolist() == [2, 0]


def test_zero_benefit_is_placed_when_a_slot_is_free_negative_never() -> None:
    pairs, benefit = _pairs([0, 1], [0, 0]), np.array([0.0, -0.1])
    assert allocate(pairs, benefit, np.array([5.0]), 2).tolist() == [0, -1]
    assert allocate(pairs, benefit, np.array([5.0]), 2, min_benefit=-1.0).tolist() == [0, -1]


def test_min_benefit_threshold() -> None:
    pairs, benefit = _pairs([0, 1, 2], [0, 1, 1]), np.array([0.2, 0.6, 0.3])
    slots = np.array([3.0, 3.0])
    assert allocate(pairs, benefit, slots, 3, min_benefit=0.3).tolist() == [-1, 1, 1]
    assert greedy_top1(pairs, benefit, slots, 3, min_benefit=0.3).tolist() == [-1, 1, 1]


def test_slots_are_floored_and_bad_values_mean_zero() -> None:
    pairs = _pairs([0, 1, 2, 0, 1, 2, 0], [0, 0, 0, 1, 1, 1, 2])
    benefit = np.array([0.9, 0.8, 0.7, 0.6, 0.6, 0.6, 0.99])
    slots = np.array([1.9, -3.0, np.nan])
    a = allocate(pairs, benefit, slots, 3)
    assert a.tolist() == [0, -1, -1]
    assert greedy_top1(pairs, benefit, slots, 3).tolist() == [0, -1, -1]


def test_duplicate_pairs_use_their_best_benefit_and_nan_is_ineligible() -> None:
    pairs = _pairs([0, 0, 1, 1], [0, 0, 0, 1])
    benefit = np.array([0.1, 0.9, 0.5, np.nan])
    a = allocate(pairs, benefit, np.array([1.0, 1.0]), 2)
    assert a.tolist() == [0, -1]
    assert assigned_pair(pairs, a).tolist() == [0, -1]  # the first of repeated pairs


def test_empty_inputs() -> None:
    empty = _pairs([], [])
    assert allocate(empty, np.zeros(0), np.zeros(3), 4).tolist() == [-1] * 4
    assert greedy_top1(empty, np.zeros(0), np.zeros(3), 4).tolist() == [-1] * 4
    assert allocate(empty, np.zeros(0), np.zeros(0), 0).shape == (0,)
    assert assigned_pair(empty, np.full(2, -1)).tolist() == [-1, -1]


def test_rejects_inconsistent_inputs() -> None:
    with pytest.raises(ValueError, match="length"):
        allocate(_pairs([0], [0]), np.zeros(2), np.ones(1), 1)
    with pytest.raises(ValueError, match="out of range"):
        allocate(_pairs([0], [3]), np.zeros(1), np.ones(2), 1)
    with pytest.raises(ValueError, match="out of range"):
        greedy_top1(_pairs([2], [0]), np.zeros(1), np.ones(1), 2)


def test_greedy_without_capacity_is_everyones_own_best() -> None:
    rng = np.random.default_rng(3)
    pairs = Pairs.cross(50, 7)
    benefit = rng.random(len(pairs))
    a = greedy_top1(pairs, benefit, np.full(7, np.inf), 50)
    assert a.tolist() == benefit.reshape(50, 7).argmax(axis=1).tolist()


def test_matches_lp_optimum_on_a_medium_cohort() -> None:
    rng = np.random.default_rng(7)
    n, m = 1_000, 300
    i, j = np.nonzero(rng.random((n, m)) < 0.1)
    pairs = _pairs(i.tolist(), j.tolist())
    benefit = rng.random(len(pairs)) * rng.random(m)[j]
    slots = rng.integers(0, 4, m).astype(float)
    a = allocate(pairs, benefit, slots, n)
    _check_feasible(pairs, benefit, slots, n, a, floor=0.0)
    assert slots.sum() < n
    assert _total(pairs, benefit, a) == pytest.approx(_lp_optimum(pairs, benefit, slots, n))
    assert _total(pairs, benefit, a) > _total(pairs, benefit, greedy_top1(pairs, benefit, slots, n))
    assert (allocate(pairs, benefit, slots, n) == a).all()


# --- properties ------------------------------------------------------------------------------


@st.composite
def instances(draw: st.DrawFn, max_n: int, max_m: int, exact: bool) -> tuple:
    """(pairs, benefit, slots, n, min_benefit); ``exact``: benefits in halves (exact, many ties)."""
    n = draw(st.integers(0, max_n))
    m = draw(st.integers(1, max_m))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)), dtype=bool)
    i, j = np.nonzero(mask.reshape(n, m))
    k = len(i)
    if exact:
        values = st.integers(-1, 4).map(lambda v: v / 2)
    else:
        values = st.floats(-0.2, 1.0, allow_nan=False)
    benefit = np.array(draw(st.lists(values, min_size=k, max_size=k)), dtype=float)
    slot = st.sampled_from([0.0, 1.0, 2.0, 3.0, 1.5, -1.0, np.nan])
    slots = np.array(draw(st.lists(slot, min_size=m, max_size=m)), dtype=float)
    min_benefit = draw(st.sampled_from([0.0, 0.25, -1.0]))
    return _pairs(i.tolist(), j.tolist()), benefit, slots, n, min_benefit


@settings(max_examples=300, deadline=None)
@given(instances(max_n=5, max_m=4, exact=True))
def test_equals_brute_force_optimum_with_tie_rule(instance: tuple) -> None:
    pairs, benefit, slots, n, min_benefit = instance
    a = allocate(pairs, benefit, slots, n, min_benefit=min_benefit)
    floor = max(min_benefit, 0.0)
    _check_feasible(pairs, benefit, slots, n, a, floor=floor)
    total, placed = _brute_force(pairs, benefit, slots, n, floor)
    assert _total(pairs, benefit, a) == total
    assert int((a >= 0).sum()) == placed


@settings(max_examples=150, deadline=None)
@given(instances(max_n=25, max_m=8, exact=False))
def test_feasible_optimal_and_at_least_greedy(instance: tuple) -> None:
    pairs, benefit, slots, n, min_benefit = instance
    a = allocate(pairs, benefit, slots, n, min_benefit=min_benefit)
    g = greedy_top1(pairs, benefit, slots, n, min_benefit=min_benefit)
    _check_feasible(pairs, benefit, slots, n, a, floor=max(min_benefit, 0.0))
    _check_feasible(pairs, benefit, slots, n, g, floor=min_benefit)
    usable = np.floor(np.nan_to_num(slots, nan=0.0)) > 0
    assert not np.isin(a, np.flatnonzero(~usable)).any(), "therapist without slots assigned"
    slack = TIE_BONUS * max(n, 1)
    assert _total(pairs, benefit, a) >= _total(pairs, benefit, g) - 1e-12
    keep = (benefit >= min_benefit) & (benefit >= 0)
    lp = _lp_optimum(pairs.take(keep), benefit[keep], np.nan_to_num(slots, nan=0.0).clip(0), n)
    assert _total(pairs, benefit, a) == pytest.approx(lp, abs=slack + 1e-7)
    assert (allocate(pairs, benefit, slots, n, min_benefit=min_benefit) == a).all()
