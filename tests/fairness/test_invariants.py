"""Property-based invariants of the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.fairness import FairnessConfig, FairnessInputs, Level, build_report

FAST = FairnessConfig(min_group_size=1, n_bootstrap=10, top_k=3)


@st.composite
def worlds(draw: st.DrawFn) -> FairnessInputs:
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n_t = draw(st.integers(2, 12))
    n_i = draw(st.integers(1, 15))
    therapists = pd.DataFrame(
        {
            "therapist_id": [f"t{k}" for k in range(n_t)],
            "gender": rng.choice(["woman", "man", "nonbinary"], n_t),
            "years_experience": rng.integers(0, 30, n_t),
            "current_caseload": rng.integers(0, 10, n_t),
            "max_caseload": rng.integers(0, 10, n_t),
        }
    )
    intakes = pd.DataFrame(
        {
            "intake_id": [f"i{k}" for k in range(n_i)],
            "client_gender": rng.choice(["woman", "man"], n_i),
            "status": "matched",
            "n_eligible": n_t,
        }
    )
    rows = []
    for i in range(n_i):
        shown = rng.permutation(n_t)[: rng.integers(1, n_t + 1)]
        rows += [(f"i{i}", f"t{t}", p + 1, rng.random()) for p, t in enumerate(shown)]
    impressions = pd.DataFrame(rows, columns=["intake_id", "therapist_id", "position", "score"])
    eligible = impressions.rename(columns={"score": "merit"})[
        ["intake_id", "therapist_id", "merit"]
    ]
    return FairnessInputs(intakes, therapists, impressions, eligible)


def _result(report, side: str, key: str, attribute: str):
    results = report.client if side == "client" else report.therapist
    return next(r for r in results if r.spec.key == key and r.attribute == attribute)


@settings(max_examples=25, deadline=None)
@given(worlds())
def test_exposure_and_merit_shares_sum_to_one(inputs: FairnessInputs):
    report = build_report(inputs, FAST)
    for key in ("exposure_share", "merit_share"):
        for attribute in ("gender", "experience"):
            result = _result(report, "therapist", key, attribute)
            total = sum(g.figure.value for g in result.groups if g.figure is not None)
            assert total == pytest.approx(1.0)


@settings(max_examples=15, deadline=None)
@given(worlds())
def test_identical_groups_are_at_parity(inputs: FairnessInputs):
    """Every client and therapist duplicated into a twin group with the same data."""

    def twin(frame: pd.DataFrame, col: str, ids: list[str]) -> pd.DataFrame:
        copy = frame.copy()
        for c in ids:
            if c in copy:
                copy[c] = copy[c].astype(str) + "_twin"
        return pd.concat([frame.assign(**{col: "a"}), copy.assign(**{col: "b"})], ignore_index=True)

    assert inputs.eligible is not None
    doubled = FairnessInputs(
        twin(inputs.intakes, "client_gender", ["intake_id"]),
        twin(inputs.therapists, "gender", ["therapist_id"]),
        pd.concat(
            [
                inputs.impressions,
                inputs.impressions.assign(
                    intake_id=inputs.impressions["intake_id"] + "_twin",
                    therapist_id=inputs.impressions["therapist_id"] + "_twin",
                ),
            ],
            ignore_index=True,
        ),
        pd.concat(
            [
                inputs.eligible,
                inputs.eligible.assign(
                    intake_id=inputs.eligible["intake_id"] + "_twin",
                    therapist_id=inputs.eligible["therapist_id"] + "_twin",
                ),
            ],
            ignore_index=True,
        ),
    )
    report = build_report(doubled, FAST)
    for side, key, attribute in (
        ("client", "benefit_topk", "client_gender"),
        ("client", "benefit_top1", "client_gender"),
        ("therapist", "exposure_merit_ratio", "gender"),
    ):
        result = _result(report, side, key, attribute)
        assert result.disparity is not None
        assert result.disparity.ratio.value == pytest.approx(1.0)
        assert result.verdict.level is Level.PASS


@settings(max_examples=15, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_relabelling_and_shuffling_therapists_changes_nothing(inputs: FairnessInputs, rnd):
    ids = inputs.therapists["therapist_id"].tolist()
    new_ids = [f"z{k}" for k in range(len(ids))]
    rnd.shuffle(new_ids)
    mapping = dict(zip(ids, new_ids, strict=True))

    def relabel(frame: pd.DataFrame) -> pd.DataFrame:
        order = list(range(len(frame)))
        rnd.shuffle(order)
        return frame.iloc[order].assign(therapist_id=lambda f: f["therapist_id"].map(mapping))

    assert inputs.eligible is not None
    moved = FairnessInputs(
        inputs.intakes,
        relabel(inputs.therapists),
        relabel(inputs.impressions),
        relabel(inputs.eligible),
    )
    stamp = "2026-01-01T00:00:00+00:00"
    before = build_report(inputs, FAST, generated_at=stamp).to_json()
    after = build_report(moved, FAST, generated_at=stamp).to_json()
    for doc in (before, after):
        doc["overloaded"]["listed"] = sorted(
            (o["current_caseload"], o["max_caseload"]) for o in doc["overloaded"]["listed"]
        )
    assert after == before
