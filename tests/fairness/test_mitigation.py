"""Exposure-aware re-ranking and its offline trade-off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairness_tiny import tiny_inputs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher.fairness import (
    ExposureReranker,
    FairnessConfig,
    FairnessInputs,
    evaluate_tradeoff,
    exposure_adjusted,
    exposure_deficit,
    rerank,
    rerank_groups,
)

scores = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(0, 1)),
        arrays(np.float64, n, elements=st.floats(0, 50)),
        arrays(np.float64, n, elements=st.floats(0, 50)),
    )
)


@given(scores)
def test_strength_zero_is_identity(data):
    score, exposure, target = data
    assert np.array_equal(rerank(score, exposure, target, 0.0), np.argsort(-score, kind="stable"))
    assert np.array_equal(exposure_adjusted(score, exposure, target, 0.0), score)


@given(scores, st.floats(0, 1))
def test_rerank_never_drops_or_duplicates(data, strength):
    score, exposure, target = data
    order = rerank(score, exposure, target, strength)
    assert sorted(order.tolist()) == list(range(len(score)))


@given(scores, st.floats(0, 1), st.integers(1, 4))
def test_rerank_groups_ranks_each_list_fully(data, strength, n_groups):
    score, exposure, target = data
    group = np.arange(len(score)) % n_groups
    ranks = rerank_groups(group, score, exposure, target, strength)
    for g in np.unique(group):
        assert sorted(ranks[group == g].tolist()) == list(range(int((group == g).sum())))


def test_deficit_and_boost():
    d = exposure_deficit([0.0, 5.0, 3.0, 0.0], [2.0, 0.0, 3.0, 0.0])
    assert d.tolist() == [1.0, -1.0, 0.0, 0.0]
    # an under-exposed therapist overtakes a slightly better, over-exposed one
    order = rerank([0.6, 0.5], exposure=[10.0, 0.0], target=[1.0, 1.0], strength=0.5)
    assert order.tolist() == [1, 0]
    assert rerank([0.6, 0.5], [10.0, 0.0], [1.0, 1.0], 0.2).tolist() == [1, 0]
    assert rerank([0.9, 0.5], [10.0, 0.0], [1.0, 1.0], 0.1).tolist() == [0, 1]
    with pytest.raises(ValueError, match="strength"):
        exposure_adjusted([0.5], [0], [0], 1.5)


def test_reranker_state_is_learned_and_updated():
    inputs = tiny_inputs()
    model = ExposureReranker(strength=1.0).fit(inputs.impressions, inputs.eligible)
    assert model.exposure_["a"] == pytest.approx(1.0)
    assert "d" in model.target_.index and "d" not in model.exposure_.index
    adjusted = model.adjust(["d", "a", "zz"], [0.5, 0.5, 0.5])
    assert adjusted[0] == pytest.approx(1.0)  # d: never shown, merit > 0 → doubled
    assert adjusted[2] == pytest.approx(0.5)  # unknown id: unchanged
    ranks = model.rank([0, 0, 0], ["a", "d", "b"], [0.8, 0.5, 0.6])
    assert sorted(ranks.tolist()) == [0, 1, 2]
    before = model.exposure_["a"]
    model.decay = 0.5
    model.partial_fit(inputs.impressions, inputs.eligible)
    assert model.exposure_["a"] == pytest.approx(before * 0.5 + 1.0)


def test_tradeoff_table(world: FairnessInputs, config: FairnessConfig):
    assert world.eligible is not None
    table = evaluate_tradeoff(world.eligible, world.therapists, config=config)
    strengths = [r.strength for r in table.rows]
    assert strengths == [0.0, 0.25, 0.5, 1.0]
    base = table.rows[0]
    assert base.benefit_change == 0.0
    benefits = [r.benefit for r in table.rows]
    ginis = [r.gini for r in table.rows]
    assert benefits == sorted(benefits, reverse=True)
    assert ginis == sorted(ginis, reverse=True)
    assert table.rows[-1].exposure_disparity["tenure"] < base.exposure_disparity["tenure"]
    assert base.true_benefit is not None
    assert table.n_intakes == world.eligible["intake_id"].nunique()


def test_tradeoff_strength_zero_serves_the_merit_order():
    pairs = pd.DataFrame(
        {
            "intake_id": ["i1"] * 3 + ["i2"] * 2,
            "therapist_id": ["a", "b", "c", "a", "c"],
            "merit": [0.9, 0.5, 0.1, 0.2, 0.8],
        }
    )
    therapists = pd.DataFrame({"therapist_id": ["a", "b", "c"]})
    table = evaluate_tradeoff(
        pairs, therapists, strengths=[0.0], config=FairnessConfig(top_k=1), batch_size=1
    )
    assert table.rows[0].benefit == pytest.approx((0.9 + 0.8) / 2)
    assert table.rows[0].never_shown == pytest.approx(1 / 3)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_tradeoff_rows_keep_every_list_full(seed):
    rng = np.random.default_rng(seed)
    n = 40
    pairs = pd.DataFrame(
        {
            "intake_id": np.repeat([f"i{k}" for k in range(8)], 5),
            "therapist_id": [f"t{k}" for k in rng.integers(0, 12, n)],
            "merit": rng.random(n),
        }
    ).drop_duplicates(["intake_id", "therapist_id"])
    table = evaluate_tradeoff(
        pairs, pd.DataFrame({"therapist_id": [f"t{k}" for k in range(12)]}),
        config=FairnessConfig(top_k=3, min_group_size=1), batch_size=3,
    )  # fmt: skip
    for row in table.rows:
        assert 0.0 <= row.gini <= 1.0
        assert 0.0 <= row.never_shown <= 1.0
