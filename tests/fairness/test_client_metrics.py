"""Client-side metrics on tiny data by hand, and against fairlearn's MetricFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from fairness_tiny import tiny_inputs

from matcher.fairness import (
    FairnessConfig,
    FairnessInputs,
    FairnessReport,
    build_report,
    client_groups,
    client_units,
)
from matcher.fairness.client_metrics import CLIENT_METRICS
from matcher.fairness.specs import Direction

W2 = 1 / np.log2(3)


def _units(k: int = 2, **kw: bool) -> pd.DataFrame:
    inputs = tiny_inputs(**kw)
    return client_units(inputs, k).set_axis(inputs.intakes["intake_id"])


def test_status_indicators():
    u = _units()
    assert u["non_crisis"].tolist() == [1, 1, 1, 0, 1, 1]
    assert u["no_eligible"].tolist() == [0, 0, 1, 0, 0, 0]
    assert u["crisis"].tolist() == [0, 0, 0, 1, 0, 0]
    assert u["listed"].tolist() == [1, 1, 0, 0, 1, 0]
    assert u["full_choice"].tolist() == [1, 1, 0, 0, 0, 1]


def test_benefit_of_top_k_and_top_1():
    u = _units(k=2)
    assert u["benefit_topk"].tolist() == pytest.approx([0.7, 0.4, 0, 0, 0.9, 0])
    assert u["benefit_top1"].tolist() == pytest.approx([0.8, 0.5, 0, 0, 0.9, 0])


def test_preferences_met_within_k():
    at2, at3 = _units(k=2), _units(k=3)
    assert at2["pref_stated"].tolist() == [1, 0, 0, 0, 1, 0]
    assert at2["pref_met"].tolist() == [0, 0, 0, 0, 0, 0]
    assert at3["pref_met"].tolist() == [1, 0, 0, 0, 0, 0]
    assert at3["pref_gender_met"].tolist() == [1, 0, 0, 0, 0, 0]


def test_ndcg_by_hand():
    u = _units(k=2)
    dcg1, idcg1 = 7 * W2, 15 + 7 * W2
    assert u["ndcg_n"].tolist() == [1, 1, 0, 0, 1, 0]
    assert u["ndcg"].tolist() == pytest.approx([dcg1 / idcg1, 1.0, 0, 0, 1.0, 0])


def test_truth_and_uplift_by_hand():
    u = _units(k=2)
    assert u["true_topk"].tolist() == pytest.approx([0.6, 0.3, 0, 0, 0.6, 0])
    # i1: random over eligible (.5 .7 .9 .3) = .6, oracle top 2 = .8, model = .6
    assert u.loc["i1", "uplift_num"] == pytest.approx(0.0)
    assert u.loc["i1", "uplift_den"] == pytest.approx(0.2)


def test_optional_metrics_drop_out_without_their_columns():
    u = _units(labels=False, truth=False)
    assert not {"ndcg", "true_topk", "uplift_num"} & set(u.columns)


def test_group_figures_in_the_report_by_hand():
    config = FairnessConfig(top_k=2, min_group_size=1, n_bootstrap=20)
    report = build_report(tiny_inputs(), config)
    gap = next(
        r for r in report.client if r.spec.key == "access_gap" and r.attribute == "client_gender"
    )
    assert gap.group("woman").figure.value == pytest.approx(1 / 3)
    assert gap.group("man").figure.value == pytest.approx(0.0)
    assert gap.group("woman").n == 3
    assert gap.overall.value == pytest.approx(0.2)
    assert gap.disparity.worst == "woman"
    assert gap.disparity.ratio.value == pytest.approx((2 / 3) / 1.0)
    benefit = next(
        r for r in report.client if r.spec.key == "benefit_topk" and r.attribute == "payment"
    )
    assert benefit.group("self-pay").figure.value == pytest.approx(0.7)
    assert benefit.group("insured").figure.value == pytest.approx((0.4 + 0.9) / 2)


def _mean(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true))


LOOSE = FairnessConfig(min_group_size=1, n_bootstrap=5)


@pytest.fixture(scope="module")
def loose_report(world: FairnessInputs) -> FairnessReport:
    return build_report(world, LOOSE)


@pytest.mark.parametrize(
    "spec", [s for s in CLIENT_METRICS if s.key != "uplift_captured"], ids=lambda s: s.key
)
def test_group_values_match_fairlearn(world: FairnessInputs, loose_report: FairnessReport, spec):
    units = client_units(world, LOOSE.top_k)
    rows = units[spec.count] > 0
    values = (units[spec.numerator] / units[spec.denominator].where(rows))[rows]
    for attribute in ("client_ethnicity", "language"):
        result = next(
            r for r in loose_report.client if r.spec.key == spec.key and r.attribute == attribute
        )
        labels = client_groups(world.intakes, LOOSE.groups)[attribute][rows]
        frame = MetricFrame(
            metrics=_mean,
            y_true=values.to_numpy(),
            y_pred=values.to_numpy(),
            sensitive_features=pd.Series(labels.astype(str).to_numpy(), name=attribute),
        )
        ours = {g.group: g.figure.value for g in result.groups if g.figure is not None}
        assert ours == pytest.approx(frame.by_group.to_dict())
        if spec.direction is Direction.HIGHER_BETTER and result.disparity is not None:
            assert result.disparity.ratio.value == pytest.approx(frame.ratio())
            assert result.disparity.gap.value == pytest.approx(frame.difference())
