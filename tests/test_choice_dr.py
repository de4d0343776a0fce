"""Choice-aware doubly robust estimator: exact unbiasedness under a toy single-choice world,
recovery of the choice model, interval coverage, and the substitution the PBM cannot see."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.offpolicy import (
    ChoiceDoublyRobust,
    ListChoiceModel,
    LoggedFeedback,
    TargetLists,
    at_logged_rows,
    choice_dr_contributions,
    dr_contributions,
    target_positions,
)

DEPTH = 3


def _feedback(  # noqa: PLR0917 (a table of toy columns)
    group: np.ndarray,
    items: np.ndarray,
    position: np.ndarray,
    reward: np.ndarray,
    chosen: np.ndarray,
    shown: np.ndarray,
    n: int,
) -> LoggedFeedback:
    return LoggedFeedback(
        intake_ids=np.array([f"i{k}" for k in range(n)], dtype=object),
        group=np.asarray(group, dtype=np.int64),
        therapist_ids=np.asarray(items, dtype=object),
        position=np.asarray(position, dtype=np.int64),
        reward=np.asarray(reward, dtype=np.float64),
        chosen=np.asarray(chosen, dtype=bool),
        propensity=np.full(len(group), np.nan),
        shown_propensity=np.asarray(shown, dtype=np.float64),
        policy=np.full(len(group), "toy", dtype=object),
    )


def _mnl(u: np.ndarray, items: list[int], delta: np.ndarray) -> np.ndarray:
    """P(book each listed item) under the multinomial logit with a no-choice option."""
    e = np.exp(np.array([u[t] for t in items]) + delta[: len(items)])
    return e / (1 + e.sum())


def _plackett_luce(scores: np.ndarray, depth: int) -> list[tuple[tuple[int, ...], float]]:
    out = []
    w = np.exp(scores)
    for prefix in itertools.permutations(range(len(scores)), depth):
        p, left = 1.0, w.sum()
        for t in prefix:
            p *= w[t] / left
            left -= w[t]
        out.append((prefix, p))
    return out


toy = st.tuples(
    st.lists(st.floats(-2, 2), min_size=4, max_size=4),  # logging scores
    st.lists(st.floats(-2, 2), min_size=4, max_size=4),  # true booking utilities
    st.lists(st.floats(0.05, 0.95), min_size=4, max_size=4),  # true g = P(good | booked)
    st.lists(st.floats(0.3, 3.0), min_size=4, max_size=4),  # per-item error of the choice model
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),  # an arbitrary ĝ
    st.permutations(range(4)),  # the target's order
)


@given(toy)
@settings(max_examples=20, deadline=None)
def test_choice_dr_is_exactly_unbiased_when_the_choice_model_is_right_up_to_item_factors(
    case: tuple[list[float], ...],
) -> None:
    scores, u_all, g_all, f_all, g_hat_all, order = case
    u, g, f, g_hat = (np.array(v) for v in (u_all, g_all, f_all, g_hat_all))
    delta = np.array([0.0, -0.5, -0.9])
    target = list(order[:DEPTH])
    p_pi = _mnl(u, target, delta)
    truth = float((p_pi * g[target]).sum())
    lists = TargetLists(
        np.zeros(DEPTH, np.int64),
        np.array([f"t{t}" for t in target], object),
        np.arange(1, DEPTH + 1),
    )
    prefixes = _plackett_luce(np.array(scores), DEPTH)
    rho = np.zeros(4)
    for prefix, p in prefixes:
        rho[list(prefix)] += p
    p_hat_pi = f[target] * p_pi  # the model's booking on π, off by a factor per therapist
    direct = np.array([(p_hat_pi * g_hat[target]).sum()])
    expected = 0.0
    for prefix, p in prefixes:
        items = list(prefix)
        p_true = _mnl(u, items, delta)
        fb = _feedback(
            np.zeros(DEPTH, np.int64),
            np.array([f"t{t}" for t in items], object),
            np.arange(1, DEPTH + 1),
            p_true * g[items],  # E[reward | list]: the estimator is linear in the rewards
            np.zeros(DEPTH, bool),
            rho[items],
            1,
        )
        expected += p * float(
            choice_dr_contributions(
                fb,
                p_target_logged=at_logged_rows(fb, lists, p_hat_pi),
                p_logged=f[items] * p_true,
                g_logged=g_hat[items],
                direct=direct,
            )[0]
        )
    assert expected == pytest.approx(truth, rel=1e-9, abs=1e-12)


def test_known_answer_one_list() -> None:
    # logged list (a, b) shown with P(shown) 0.5 each; a booked with a good outcome
    fb = _feedback(
        np.array([0, 0]), np.array(["a", "b"], object), np.array([1, 2]),
        np.array([1.0, 0.0]), np.array([True, False]), np.array([0.5, 0.5]), 1,
    )  # fmt: skip
    lists = TargetLists(np.array([0]), np.array(["a"], object), np.array([1]))
    # P̂(a | π) = 0.6, P̂(a | L) = 0.4, P̂(b | L) = 0.2, ĝ = 0.5 for both
    p_t = at_logged_rows(fb, lists, np.array([0.6]))
    assert p_t.tolist() == [0.6, 0.0]
    v = choice_dr_contributions(
        fb,
        p_target_logged=p_t,
        p_logged=np.array([0.4, 0.2]),
        g_logged=np.array([0.5, 0.5]),
        direct=np.array([0.6 * 0.5]),
    )
    # D = 0.3; C = 0.6 / (0.5 · 0.4) · (1 − 0.4 · 0.5) = 3 · 0.8 = 2.4
    assert v[0] == pytest.approx(0.3 + 2.4)


def _simulate(
    rng: np.random.Generator, n: int, u: np.ndarray, g: np.ndarray, delta: np.ndarray
) -> LoggedFeedback:
    """n intakes, uniformly random top-3 lists of 6 items, MNL single choice, outcome ~ g."""
    n_items = len(u)
    shown = np.argsort(rng.random((n, n_items)), axis=1)[:, :DEPTH]
    e = np.exp(u[shown] + delta[None, :])
    p = np.c_[e, np.ones(n)] / (1 + e.sum(axis=1, keepdims=True))
    cum = p.cumsum(axis=1)
    pick = (rng.random((n, 1)) > cum).sum(axis=1)  # DEPTH = nobody
    chosen = np.arange(DEPTH)[None, :] == pick[:, None]
    good = rng.random((n, DEPTH)) < g[shown]
    return _feedback(
        np.repeat(np.arange(n), DEPTH),
        np.array([f"t{t}" for t in shown.ravel()], object),
        np.tile(np.arange(1, DEPTH + 1), n),
        (chosen & good).ravel().astype(float),
        chosen.ravel(),
        np.full(n * DEPTH, DEPTH / n_items),
        n,
    )


def _item(ids: np.ndarray) -> np.ndarray:
    return np.array([int(t[1:]) for t in ids], dtype=np.int64)


def _lookup(values: np.ndarray):  # type: ignore[no-untyped-def]
    def f(group: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[_item(ids)]

    return f


U = np.array([1.0, 0.5, 0.0, -0.5, -1.0, 0.8])
G = np.array([0.2, 0.6, 0.4, 0.3, 0.7, 0.5])
DELTA = np.array([0.0, -0.6, -1.0])


def test_choice_model_recovers_the_utilities_and_position_effects() -> None:
    fb = _simulate(np.random.default_rng(3), 20000, U, G, DELTA)
    z = U[_item(fb.therapist_ids)][:, None]  # the true utilities as the one feature
    model = ListChoiceModel(position="free").fit(fb.group, fb.position, z, fb.chosen)
    assert model.coef_[0] == pytest.approx(1.0, abs=0.06)
    assert model.position_effect_ == pytest.approx(DELTA, abs=0.08)


def _target(n: int, items: list[int]) -> TargetLists:
    return TargetLists(
        np.repeat(np.arange(n), len(items)),
        np.tile(np.array([f"t{t}" for t in items], object), n),
        np.tile(np.arange(1, len(items) + 1), n),
    )


def test_choice_dr_intervals_cover_the_truth_with_a_wrong_outcome_model() -> None:
    rng = np.random.default_rng(17)
    sig = 1 / (1 + np.exp(-U))
    items = [0, 5, 1]  # the three most bookable: strong substitution
    truth = float((_mnl(U, items, DELTA) * G[items]).sum())
    g_wrong = np.full(len(U), 0.45)  # ĝ knows nothing
    repeats, n, covered = 100, 300, 0
    for _ in range(repeats):
        fb = _simulate(rng, n, U, G, DELTA)
        est = ChoiceDoublyRobust().fit(fb, [_lookup(sig)], _lookup(g_wrong))
        v = est.contributions(fb, _target(n, items))
        half = 1.959964 * v.std(ddof=1) / np.sqrt(n)
        covered += abs(v.mean() - truth) <= half
    assert 0.90 <= covered / repeats <= 0.99, covered / repeats


def test_additive_pbm_overstates_a_strong_list_where_choice_dr_does_not() -> None:
    fb = _simulate(np.random.default_rng(23), 40000, U, G, DELTA)
    sig = 1 / (1 + np.exp(-U))
    n, items = fb.n, [0, 5, 1]
    lists = _target(n, items)
    truth = float((_mnl(U, items, DELTA) * G[items]).sum())
    choice = ChoiceDoublyRobust().fit(fb, [_lookup(sig)], _lookup(G)).contributions(fb, lists)
    # PBM-DR with the exact examination curve of a one-item list and the true outcome
    theta = np.exp(DELTA)
    q = G * sig / (1 - sig) / (1 + np.exp(U).mean())  # any q̂: PBM's bias is in its model
    q_logged = _lookup(q)(fb.group, fb.therapist_ids)
    direct = np.full(n, float((theta * q[items]).sum()))
    pbm = dr_contributions(fb, target_positions(fb, lists), theta, q_logged=q_logged, direct=direct)
    se = choice.std(ddof=1) / np.sqrt(n)
    assert abs(choice.mean() - truth) < 3 * se
    assert pbm.mean() - truth > 5 * pbm.std(ddof=1) / np.sqrt(n)


def test_log_position_effect_recovers_a_power_law_examination() -> None:
    delta = -0.8 * np.log(np.arange(1, DEPTH + 1))
    fb = _simulate(np.random.default_rng(4), 20000, U, G, delta)
    z = U[_item(fb.therapist_ids)][:, None]
    model = ListChoiceModel(position="log").fit(fb.group, fb.position, z, fb.chosen)
    assert model.position_effect_ == pytest.approx(delta, abs=0.08)
    # defined beyond the logged depth, decreasing with the same slope
    beyond = model.position_effects(np.array([DEPTH + 2]))[0]
    assert beyond == pytest.approx(-0.8 * np.log(DEPTH + 2), abs=0.15)
