"""Exposure weights, exposure, merit-proportional target, Gini and TV against hand values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_tiny import tiny_inputs

from matcher.fairness import (
    gini,
    position_weight,
    target_exposure,
    therapist_exposure,
    total_variation,
)

W2 = 1 / np.log2(3)


def test_position_weight_is_the_dcg_discount():
    assert position_weight([1, 2, 3, 7]) == pytest.approx([1.0, W2, 0.5, 1 / 3])


def test_exposure_sums_weights_per_therapist():
    exposure = therapist_exposure(tiny_inputs().impressions)
    assert exposure.to_dict() == pytest.approx({"a": 1.0, "b": W2 + 1, "c": 0.5 + W2 + 1})


def test_target_splits_each_lists_attention_by_merit_over_eligible():
    inputs = tiny_inputs()
    target = target_exposure(inputs.impressions, inputs.eligible)
    e1, e2, e5 = 1 + W2 + 0.5, 1 + W2, 1.0
    expected = {
        "a": 0.4 * e1,
        "b": 0.3 * e1 + 0.625 * e2,
        "c": 0.2 * e1 + 0.375 * e2 + e5,
        "d": 0.1 * e1,
    }
    assert target.to_dict() == pytest.approx(expected)
    assert target.sum() == pytest.approx(therapist_exposure(inputs.impressions).sum())


def test_target_without_eligible_uses_the_shown_scores():
    inputs = tiny_inputs(eligible=False)
    target = target_exposure(inputs.impressions, None)
    e1 = 1 + W2 + 0.5
    assert target["a"] == pytest.approx(0.8 / 1.8 * e1)
    assert "d" not in target.index


def test_all_zero_merit_splits_attention_equally():
    shown = pd.DataFrame(
        {"intake_id": ["i", "i"], "therapist_id": ["a", "b"], "position": [1, 2], "score": 0.0}
    )
    target = target_exposure(shown, None)
    assert target.to_dict() == pytest.approx({"a": (1 + W2) / 2, "b": (1 + W2) / 2})


def test_gini_hand_values_and_pairwise_definition():
    assert float(gini([1, 1, 1, 1])) == pytest.approx(0.0)
    assert float(gini([0, 0, 0, 1])) == pytest.approx(0.75)
    assert float(gini([0, 0, 0])) == 0.0
    rng = np.random.default_rng(0)
    x = rng.exponential(size=(5, 30))
    pairwise = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(1, 2)) / (2 * 30**2 * x.mean(1))
    assert gini(x) == pytest.approx(pairwise)


def test_total_variation():
    assert float(total_variation([0.5, 0.5], [0.5, 0.5])) == 0.0
    assert float(total_variation([0.7, 0.3], [0.4, 0.6])) == pytest.approx(0.3)
