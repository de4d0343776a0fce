"""The report: JSON shape, suppression, HTML ≡ JSON, self-contained HTML, invariance."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from fairness_html import html_figures, json_figures
from fairness_tiny import tiny_inputs

from matcher.fairness import (
    REPORT_VERSION,
    FairnessConfig,
    FairnessInputs,
    FairnessReport,
    Level,
    build_report,
)
from matcher.fairness.formatting import fmt
from matcher.fairness.specs import Unit
from reports import render_html

STAMP = "2026-01-01T00:00:00+00:00"


def test_json_is_serialisable_and_versioned(report: FairnessReport):
    doc = report.to_json()
    again = json.loads(json.dumps(doc, allow_nan=False))
    assert again["schema"] == "matcher.fairness-report"
    assert again["version"] == REPORT_VERSION
    assert again["generated_at"] == STAMP
    assert again["config"]["min_group_size"] == 20
    keys = {m["metric"] for m in doc["client"]}
    assert {"access_gap", "benefit_topk", "preferences_met", "ndcg", "uplift_captured"} <= keys
    keys = {m["metric"] for m in doc["therapist"]}
    assert {"exposure_merit_ratio", "never_shown", "overload_rate"} <= keys
    assert {s["metric"] for s in doc["scalars"]} == {
        "exposure_disparity", "gini_exposure", "overload_rate"
    }  # fmt: skip


def test_small_groups_are_suppressed_everywhere(report: FairnessReport):
    doc = report.to_json()
    note = "suppressed (n < 20)"
    suppressed = 0
    for m in doc["client"] + doc["therapist"]:
        for g in m["groups"]:
            if g.get("suppressed"):
                suppressed += 1
                assert set(g) == {"group", "suppressed", "note"}
                assert g["note"] == note
            else:
                assert g["n"] >= 20
        d = m["disparity"]
        if d is not None:
            shown = {g["group"] for g in m["groups"] if not g.get("suppressed")}
            assert {d["worst"], d["best"]} <= shown
    assert suppressed > 0
    page = render_html(report)
    found = html_figures(page)
    for m in doc["client"] + doc["therapist"]:
        for g in m["groups"]:
            if g.get("suppressed"):
                base = f"{m['side']}/{m['metric']}/{m['attribute']}/{g['group']}"
                assert found[f"{base}/note"] == [(note, note)]
                assert not any(k.startswith(f"{base}/") and k != f"{base}/note" for k in found)


def test_every_group_suppressed_means_nothing_is_judged(world: FairnessInputs):
    report = build_report(world, FairnessConfig(min_group_size=10**6, n_bootstrap=5))
    judged = {r.verdict.level for r in report.judged()}
    assert judged <= {Level.NOT_ASSESSED}
    doc = report.to_json()
    assert all(g.get("suppressed") for m in doc["client"] for g in m["groups"])


def test_html_and_json_carry_the_same_figures(report: FairnessReport):
    page = render_html(report)
    found = html_figures(page)
    expected = json_figures(report.to_json())
    assert set(found) == set(expected)
    for key, value in expected.items():
        for shown_value, _text in found[key]:
            assert shown_value == value, key
    units = {m["metric"]: Unit(m["unit"]) for m in report.to_json()["client"]}
    text = found["client/access_gap/language/English/value"][0][1]
    assert text == fmt(expected["client/access_gap/language/English/value"], units["access_gap"])


def test_html_and_json_agree_with_a_tradeoff(world: FairnessInputs, config: FairnessConfig):
    from matcher.fairness import evaluate_tradeoff

    assert world.eligible is not None
    tradeoff = evaluate_tradeoff(world.eligible, world.therapists, config=config)
    report = build_report(world, config, tradeoff=tradeoff, generated_at=STAMP)
    found = html_figures(render_html(report))
    expected = json_figures(report.to_json())
    assert set(found) == set(expected)
    assert all(v == expected[k] for k, vs in found.items() for v, _ in vs)
    assert "tradeoff/3/gini" in found


def test_html_is_self_contained(report: FairnessReport):
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "<svg" in page and "@media print" in page


def test_summary_comes_first_with_headlines_worst_first(report: FairnessReport):
    page = render_html(report)
    assert page.index('id="summary"') < page.index('id="clients"') < page.index('id="therapists"')
    headlines = report.headlines()
    assert headlines, "the synthetic world has built-in disparities"
    levels = [h.level for h in headlines]
    assert levels == sorted(levels, key=[Level.FAIL, Level.WARN].index)
    counts = report.level_counts()
    assert sum(counts.values()) == len(report.judged())
    language = next(
        r for r in report.client if r.spec.key == "access_gap" and r.attribute == "language"
    )
    assert language.verdict.level is Level.FAIL
    tenure = next(
        r for r in report.therapist
        if r.spec.key == "exposure_merit_ratio" and r.attribute == "tenure"
    )  # fmt: skip
    assert tenure.verdict.level is Level.FAIL
    assert tenure.disparity is not None and tenure.disparity.worst == "new"


def _relabel(inputs: FairnessInputs, seed: int) -> FairnessInputs:
    """Rename every therapist through a random bijection and shuffle every frame's rows."""
    rng = np.random.default_rng(seed)
    ids = inputs.therapists["therapist_id"].to_numpy()
    mapping = dict(zip(ids, rng.permutation([f"X{i:05d}" for i in range(len(ids))]), strict=True))

    def shuffle(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        if "therapist_id" in out:
            out["therapist_id"] = out["therapist_id"].map(mapping)
        return out

    assert inputs.eligible is not None
    return FairnessInputs(
        shuffle(inputs.intakes),
        shuffle(inputs.therapists),
        shuffle(inputs.impressions),
        shuffle(inputs.eligible),
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_permuting_therapist_ids_changes_nothing(
    world: FairnessInputs, report: FairnessReport, config: FairnessConfig, seed: int
):
    other = build_report(_relabel(world, seed), config, generated_at=STAMP).to_json()
    base = report.to_json()
    for doc in (base, other):
        doc["overloaded"]["listed"] = sorted(
            (o["current_caseload"], o["max_caseload"]) for o in doc["overloaded"]["listed"]
        )
    assert other == base


def test_missing_optional_inputs_are_noted_not_fatal():
    report = build_report(
        tiny_inputs(labels=False, truth=False, eligible=False),
        FairnessConfig(min_group_size=1, n_bootstrap=10),
    )
    keys = {r.spec.key for r in report.client} | {r.spec.key for r in report.therapist}
    assert not {"ndcg", "true_benefit_topk", "uplift_captured", "never_shown"} & keys
    assert any("No eligible pairs" in n for n in report.notes)
    assert any("NDCG" in n for n in report.notes)
    render_html(report)


def test_inputs_are_checked():
    inputs = tiny_inputs()
    with pytest.raises(ValueError, match="status"):
        FairnessInputs(inputs.intakes.drop(columns="status"), inputs.therapists, inputs.impressions)
    bad = inputs.intakes.assign(status="pending")
    with pytest.raises(ValueError, match="pending"):
        FairnessInputs(bad, inputs.therapists, inputs.impressions)
    with pytest.raises(ValueError, match="top_k"):
        FairnessConfig(top_k=0)


def test_degenerate_inputs_still_give_a_valid_report():
    t = tiny_inputs()
    loose = FairnessConfig(min_group_size=1, n_bootstrap=10)
    cases = [
        FairnessInputs(t.intakes, t.therapists, t.impressions.iloc[:0]),
        FairnessInputs(
            t.intakes.assign(status="crisis"),
            t.therapists[["therapist_id"]],
            t.impressions.iloc[:0],
        ),
        FairnessInputs(
            t.intakes[["intake_id", "status"]],
            t.therapists[["therapist_id"]],
            t.impressions[["intake_id", "therapist_id", "position", "score"]],
        ),
    ]
    for inputs in cases:
        report = build_report(inputs, loose)
        json.dumps(report.to_json(), allow_nan=False)
        assert "<!DOCTYPE html>" in render_html(report)
