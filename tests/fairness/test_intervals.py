"""The vectorised bootstrap: exact group sums, fairlearn-compatible intervals, order-free."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame

from matcher.fairness import GroupedBootstrap, bootstrap_statistic, gini
from matcher.fairness.assess import disparity
from matcher.fairness.groups import categorical
from matcher.fairness.intervals import percentile_interval, resample_counts
from matcher.fairness.specs import Direction, Kind, MetricSpec, Side, Unit, group_values

MEAN = MetricSpec("m", "m", "", "", Side.CLIENT, Kind.MEAN, "y", "one", "one", Unit.SHARE,
                  Direction.HIGHER_BETTER)  # fmt: skip


def _data(n: int = 600, seed: int = 0, shift: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 0.5 + shift * (group == "a")).astype(float)
    values = pd.DataFrame({"y": y, "one": np.ones(n)})
    groups = pd.DataFrame({"g": categorical(pd.Series(group)), "h": categorical(pd.Series(y > 0))})
    return values, groups


def test_resample_counts_draw_n_with_replacement():
    counts = resample_counts(np.random.default_rng(0), 50, 7)
    assert counts.shape == (7, 50)
    assert (counts.sum(axis=1) == 50).all()


def test_sums_are_group_sums_and_replicates_share_one_resample():
    values, groups = _data()
    boot = GroupedBootstrap(n_boot=40, seed=1).fit(values, groups)
    expected = values.groupby(groups["g"].to_numpy()).sum()
    assert boot.levels_["g"] == ("a", "b", "c")
    assert boot.sums_["g"] == pytest.approx(expected.loc[["a", "b", "c"]].to_numpy())
    # one resample per replicate, shared by every attribute: totals agree across attributes
    totals_g = boot.replicates_["g"].sum(axis=1)
    totals_h = boot.replicates_["h"].sum(axis=1)
    assert totals_g == pytest.approx(totals_h)
    assert (boot.replicates_["g"][..., 1].sum(axis=1) == len(values)).all()


def test_intervals_do_not_depend_on_row_order():
    values, groups = _data()
    order = np.random.default_rng(5).permutation(len(values))
    a = GroupedBootstrap(n_boot=30, seed=2).fit(values, groups)
    b = GroupedBootstrap(n_boot=30, seed=2).fit(
        values.iloc[order].reset_index(drop=True), groups.iloc[order].reset_index(drop=True)
    )
    assert np.array_equal(a.replicates_["g"], b.replicates_["g"])


def _mean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true))


def test_group_intervals_agree_with_fairlearn_metricframe():
    values, groups = _data(n=1500, seed=3)
    boot = GroupedBootstrap(n_boot=400, seed=4).fit(values, groups)
    reps = group_values(boot.replicates_["g"], MEAN, boot.columns_)
    low, high = percentile_interval(reps, 0.95)
    frame = MetricFrame(
        metrics=_mean,
        y_true=values["y"].to_numpy(),
        y_pred=values["y"].to_numpy(),
        sensitive_features=pd.Series(groups["g"].astype(str).to_numpy(), name="g"),
        n_boot=120,
        ci_quantiles=[0.025, 0.975],
        random_state=4,
    )
    assert group_values(boot.sums_["g"], MEAN, boot.columns_) == pytest.approx(
        frame.by_group.loc[["a", "b", "c"]].to_numpy()
    )
    theirs_low, theirs_high = (q.loc[["a", "b", "c"]].to_numpy() for q in frame.by_group_ci)
    width = high - low
    assert (np.abs(low - theirs_low) < 0.25 * width).all()
    assert (np.abs(high - theirs_high) < 0.25 * width).all()


def test_fixed_pair_ratio_interval_can_reach_parity_unlike_min_over_max():
    rng = np.random.default_rng(7)
    n = 400
    group = np.repeat(["a", "b"], n // 2)
    y = (rng.random(n) < 0.5).astype(float)
    values = pd.DataFrame({"y": y, "one": np.ones(n)})
    groups = pd.DataFrame({"g": categorical(pd.Series(group))})
    boot = GroupedBootstrap(n_boot=300, seed=8).fit(values, groups)
    point = group_values(boot.sums_["g"], MEAN, boot.columns_)
    reps = group_values(boot.replicates_["g"], MEAN, boot.columns_)
    d = disparity(
        point, reps, MEAN, shown=np.array([True, True]), levels=boot.levels_["g"], level=0.95
    )
    assert d is not None
    assert d.ratio.low < 1.0 < d.ratio.high
    # min/max per resample (fairlearn's ratio_ci) never reaches 1 unless groups tie exactly
    min_over_max = reps.min(axis=1) / reps.max(axis=1)
    assert np.quantile(min_over_max, 0.975) < 1.0


def test_bootstrap_statistic_is_order_free_and_sized():
    x = np.random.default_rng(0).exponential(size=200)
    a = bootstrap_statistic(x, gini, 50, seed=1)
    b = bootstrap_statistic(x[::-1], gini, 50, seed=1)
    assert a.shape == (50,)
    assert np.array_equal(a, b)
    low, high = percentile_interval(a, 0.9)
    assert low < float(gini(x)) < high
