"""The one copy of the ranking and exposure formulas, checked against libraries and against
direct per-group computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from core.ranking import (
    ndcg_at_k,
    ndcg_at_ks,
    random_topk_mean,
    topk_mean,
    topk_means,
    uplift_captured,
)
from matcher.engine import ExposureLedger
from matcher.fairness.exposure import position_weight, target_exposure, target_shares


@st.composite
def ranked_groups(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sizes = draw(st.lists(st.integers(2, 9), min_size=1, max_size=8))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    group = np.repeat(rng.permutation(len(sizes)) * 7, sizes)
    label = rng.integers(0, 5, size=len(group)).astype(np.float64)
    score = rng.permutation(len(group)).astype(np.float64)  # distinct: no ties to average
    return group, label, score


@settings(max_examples=60, deadline=None)
@given(ranked_groups(), st.integers(1, 10))
def test_ndcg_matches_sklearn_with_exponential_gains(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], k: int
) -> None:
    group, label, score = data
    expected = [
        ndcg_score([2.0 ** label[group == g] - 1], [score[group == g]], k=k)
        for g in np.unique(group)
        if label[group == g].max() > 0
    ]
    got = ndcg_at_k(group, label, score, k)
    if expected:
        assert np.isclose(got, np.mean(expected))
    else:
        assert np.isnan(got)


@settings(max_examples=60, deadline=None)
@given(ranked_groups(), st.integers(1, 10))
def test_topk_mean_and_uplift_match_a_pandas_group_by(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], k: int
) -> None:
    group, label, score = data
    frame = pd.DataFrame({"g": group, "v": label / 4, "s": score})
    top = frame.sort_values("s", ascending=False).groupby("g").head(k)
    u_model = top.groupby("g")["v"].mean().mean()
    u_random = frame.groupby("g")["v"].mean().mean()
    best = frame.sort_values("v", ascending=False, kind="stable").groupby("g").head(k)
    u_oracle = best.groupby("g")["v"].mean().mean()
    assert np.isclose(topk_mean(group, score, label / 4, k), u_model)
    assert np.isclose(random_topk_mean(group, label / 4), u_random)
    assert np.isclose(topk_mean(group, label / 4, label / 4, k), u_oracle)
    uplift = uplift_captured(u_model, u_random, u_oracle)
    if abs(u_oracle - u_random) > 1e-12:
        assert np.isclose(uplift, (u_model - u_random) / (u_oracle - u_random))
        assert uplift <= 1 + 1e-9
    else:
        assert np.isnan(uplift)


@settings(max_examples=60, deadline=None)
@given(ranked_groups())
def test_target_shares_split_each_intakes_attention_by_merit(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    group, label, _ = data
    intake = pd.factorize(group)[0].astype(np.int64)
    merit = label - 1.0  # some negative, some zero merit intakes
    attention = np.arange(1, intake.max() + 2, dtype=np.float64)
    shares = target_shares(intake, merit, attention)
    assert (shares >= 0).all()
    assert np.allclose(np.bincount(intake, weights=shares), attention)
    m = np.clip(merit, 0, None)
    total = pd.Series(m).groupby(intake).transform("sum").to_numpy()
    size = pd.Series(m).groupby(intake).transform("size").to_numpy()
    direct = np.where(total > 0, m / np.where(total > 0, total, 1), 1 / size) * attention[intake]
    assert np.allclose(shares, direct)


def test_the_ledger_and_the_report_give_the_same_targets() -> None:
    rng = np.random.default_rng(3)
    pairs = pd.DataFrame(
        {
            "intake_id": np.repeat([f"i{k}" for k in range(6)], 5),
            "therapist_id": [f"t{k}" for k in rng.integers(0, 8, size=30)],
            "merit": rng.random(30),
        }
    ).drop_duplicates(["intake_id", "therapist_id"], ignore_index=True)
    shown = pairs.assign(position=pairs.groupby("intake_id").cumcount() + 1)
    shown = shown[shown["position"] <= 3].assign(score=lambda f: f["merit"])
    ledger = ExposureLedger()
    ids = sorted(set(pairs["therapist_id"]))
    slots = dict(zip(ids, ledger.slots(ids), strict=True))
    intake_code = {f"i{k}": k for k in range(6)}
    ledger.record(
        shown["intake_id"].map(intake_code).to_numpy(np.int64),
        shown["therapist_id"].map(slots).to_numpy(np.int64),
        shown["position"].to_numpy(np.int64),
        pair_intake=pairs["intake_id"].map(intake_code).to_numpy(np.int64),
        pair_slot=pairs["therapist_id"].map(slots).to_numpy(np.int64),
        merit=pairs["merit"].to_numpy(),
    )
    totals = ledger.totals()
    report = target_exposure(shown, pairs)
    pd.testing.assert_series_equal(
        totals["target"].loc[report.index], report, check_names=False, check_index_type=False
    )
    assert np.isclose(totals["exposure"].sum(), position_weight(shown["position"]).sum())


@settings(max_examples=40, deadline=None)
@given(ranked_groups(), st.lists(st.integers(1, 10), min_size=1, max_size=4))
def test_several_cutoffs_from_one_ranking_match_one_cutoff_at_a_time(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], ks: list[int]
) -> None:
    """The scorecard ranks each list once for all its cutoffs: the same NDCG@k and U@k as
    direct per-group computations at each k."""
    group, label, score = data
    groups = [g for g in np.unique(group) if label[group == g].max() > 0]
    for k, got in zip(ks, ndcg_at_ks(group, label, score, ks), strict=True):
        expected = [
            ndcg_score([2.0 ** label[group == g] - 1], [score[group == g]], k=k) for g in groups
        ]
        assert np.isclose(got, np.mean(expected)) if expected else np.isnan(got)
    for k, got in zip(ks, topk_means(group, score, label, ks), strict=True):
        tops = [
            np.sort(label[group == g][np.argsort(-score[group == g])][:k]) for g in np.unique(group)
        ]
        assert np.isclose(got, np.mean([t.mean() for t in tops]))
