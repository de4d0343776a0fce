"""Off-policy estimators: known answers, exact unbiasedness on toy logging policies, coverage."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.offpolicy import (
    LoggedFeedback,
    TargetLists,
    dr_contributions,
    fit_examination,
    ips,
    mean_estimate,
    pbm_ips,
    pbm_snips,
    ratio_estimate,
    snips,
    target_positions,
)


def _feedback(  # noqa: PLR0917 (a table of toy columns)
    group: list[int] | np.ndarray,
    items: list[str] | np.ndarray,
    position: list[int] | np.ndarray,
    reward: list[float] | np.ndarray,
    propensity: list[float] | np.ndarray,
    shown: list[float] | np.ndarray | None = None,
    n: int | None = None,
) -> LoggedFeedback:
    g = np.asarray(group, dtype=np.int64)
    n = n if n is not None else int(g.max()) + 1
    r = np.asarray(reward, dtype=np.float64)
    return LoggedFeedback(
        intake_ids=np.array([f"i{k}" for k in range(n)], dtype=object),
        group=g,
        therapist_ids=np.asarray(items, dtype=object),
        position=np.asarray(position, dtype=np.int64),
        reward=r,
        chosen=r > 0,
        propensity=np.asarray(propensity, dtype=np.float64),
        shown_propensity=np.asarray(shown if shown is not None else propensity, dtype=np.float64),
        policy=np.full(len(g), "toy", dtype=object),
    )


def test_ips_known_answer() -> None:
    # two intakes, one slot each; the target lists "a" first for both
    fb = _feedback([0, 1], ["a", "b"], [1, 1], [1.0, 1.0], [0.25, 0.5])
    lists = TargetLists(np.array([0, 1]), np.array(["a", "a"], dtype=object), np.array([1, 1]))
    pos = target_positions(fb, lists)
    assert pos.tolist() == [1, 0]
    est = ips(fb, pos)
    assert est.value == pytest.approx((1 / 0.25 + 0) / 2)
    # SNIPS: Σ w r / Σ w · K̄ = 4 / 4 · 1
    assert snips(fb, pos, lists.slots(2)).value == pytest.approx(1.0)


def test_mean_estimate_is_the_clt_interval() -> None:
    v = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    est = mean_estimate(v)
    half = 1.959963984540054 * v.std(ddof=1) / np.sqrt(5)
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx((0.6, 0.6 - half, 0.6 + half))


def test_ratio_with_constant_denominator_is_a_scaled_mean() -> None:
    a = np.array([1.0, 2.0, 0.0, 3.0])
    est = ratio_estimate(a, np.full(4, 2.0), 2.0)
    ref = mean_estimate(a)
    assert est.value == pytest.approx(ref.value)
    assert est.se == pytest.approx(ref.se)


def _plackett_luce(scores: np.ndarray, depth: int) -> list[tuple[tuple[int, ...], float]]:
    """Every ordered top-``depth`` prefix and its probability under Plackett–Luce."""
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
    st.lists(st.floats(-2, 2), min_size=3, max_size=4),  # logging scores
    st.lists(st.floats(0.05, 0.95), min_size=4, max_size=4),  # α per item
    st.floats(0.2, 1.0),  # θ_2
    st.permutations(range(4)),  # the target's order
    st.lists(st.floats(0.0, 0.5), min_size=4, max_size=4),  # an arbitrary q̂
)


@given(toy)
@settings(max_examples=40, deadline=None)
def test_estimators_are_exactly_unbiased_on_a_known_logging_policy(
    case: tuple[list[float], list[float], float, list[int], list[float]],
) -> None:
    scores, alpha_all, theta2, order, q_all = case
    n_items, depth, k = len(scores), 2, 2
    alpha, q = np.array(alpha_all[:n_items]), np.array(q_all[:n_items])
    theta = np.array([1.0, theta2])
    prefixes = _plackett_luce(np.array(scores), depth)
    mu = np.zeros((n_items, depth))
    for prefix, p in prefixes:
        for pos, t in enumerate(prefix):
            mu[t, pos] += p
    rho = mu.sum(axis=1)
    target = [t for t in order if t < n_items][:k]
    lists = TargetLists(
        np.zeros(k, np.int64), np.array([f"t{t}" for t in target], object), np.arange(1, k + 1)
    )
    truth = sum(theta[pos] * alpha[t] for pos, t in enumerate(target))
    expected = {"ips": 0.0, "pbm_ips": 0.0, "dr": 0.0}
    direct = np.array([sum(theta[pos] * q[t] for pos, t in enumerate(target))])
    for prefix, p in prefixes:
        items = list(prefix)
        fb = _feedback(
            [0] * depth,
            [f"t{t}" for t in items],
            [1, 2],
            [theta[pos] * alpha[t] for pos, t in enumerate(items)],  # E[reward] under the PBM
            [mu[t, pos] for pos, t in enumerate(items)],
            [rho[t] for t in items],
        )
        tp = target_positions(fb, lists)
        expected["ips"] += p * ips(fb, tp).value
        expected["pbm_ips"] += p * pbm_ips(fb, tp, theta).value
        q_logged = np.array([q[t] for t in items])
        expected["dr"] += p * dr_contributions(fb, tp, theta, q_logged=q_logged, direct=direct)[0]
    for name, value in expected.items():
        assert value == pytest.approx(truth, rel=1e-9, abs=1e-12), name


def _simulated_logs(
    rng: np.random.Generator, n: int, alpha: np.ndarray, theta: np.ndarray
) -> LoggedFeedback:
    """n intakes, 4 items, uniformly random top-2 lists, independent PBM clicks."""
    keys = rng.random((n, len(alpha)))
    shown = np.argsort(keys, axis=1)[:, :2]
    group = np.repeat(np.arange(n), 2)
    items = shown.ravel()
    position = np.tile([1, 2], n)
    reward = (rng.random(2 * n) < theta[position - 1] * alpha[items]).astype(float)
    mu = np.full(2 * n, 1 / len(alpha))
    return _feedback(
        group, np.array([f"t{t}" for t in items], object), position, reward, mu, mu * 2, n=n
    )


def test_intervals_cover_the_true_value_at_their_level() -> None:
    rng = np.random.default_rng(11)
    alpha, theta = np.array([0.6, 0.3, 0.2, 0.1]), np.array([1.0, 0.5])
    lists = TargetLists(np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0, np.int64))
    truth = theta[0] * alpha[0] + theta[1] * alpha[1]
    covered = {"ips": 0, "snips": 0, "pbm_ips": 0, "pbm_snips": 0}
    repeats, n = 300, 400
    for _ in range(repeats):
        fb = _simulated_logs(rng, n, alpha, theta)
        lists = TargetLists(
            np.repeat(np.arange(n), 2),
            np.tile(np.array(["t0", "t1"], object), n),
            np.tile([1, 2], n),
        )
        tp = target_positions(fb, lists)
        slots = lists.slots(n)
        for name, est in {
            "ips": ips(fb, tp),
            "snips": snips(fb, tp, slots),
            "pbm_ips": pbm_ips(fb, tp, theta),
            "pbm_snips": pbm_snips(fb, tp, theta, slots),
        }.items():
            covered[name] += est.ci_low <= truth <= est.ci_high
    for name, hits in covered.items():
        assert 0.91 <= hits / repeats <= 0.985, (name, hits / repeats)


def test_examination_curve_is_recovered_from_random_lists() -> None:
    rng = np.random.default_rng(5)
    alpha, theta = np.array([0.6, 0.3, 0.2, 0.1]), np.array([1.0, 0.5])
    fb = _simulated_logs(rng, 40000, alpha, theta)
    fitted, gamma = fit_examination(fb)
    assert gamma == pytest.approx(1.0, abs=0.05)  # 2^−1 = 0.5
    assert fitted[1] == pytest.approx(0.5, abs=0.02)
