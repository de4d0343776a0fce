"""Exposure-aware re-ranking wired into the engine (``MatcherConfig.exposure_mitigation``).

Strength 0 leaves every answer identical; a strength > 0 evens out exposure at a small cost in
predicted benefit; the running totals match the fairness package's definitions, carry over a
pool change, and lose no update when the API's threadpool serves requests concurrently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import MatcherConfig
from features.dataset import Dataset, load_dataset
from matcher.engine import Matcher
from matcher.fairness import ExposureReranker, FairnessConfig, position_weight
from matcher.model import MatchModel
from matcher.results import MatchResult
from matcher.triage import triage
from synth import WorldConfig, generate_world
from training.config import TrainConfig
from training.job import fit_and_evaluate

FAST = TrainConfig(
    folds=3, max_rounds=300, baselines=False, fairness=FairnessConfig(n_bootstrap=20)
)
TOP_K = 5


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[MatchModel, Dataset]:
    folder = tmp_path_factory.mktemp("world")
    generate_world(WorldConfig(n_therapists=60, n_intakes=1500, seed=21)).write(folder)
    dataset = load_dataset(Path(folder))
    return fit_and_evaluate(dataset, FAST).model, dataset


def _serve(matcher: Matcher, intakes: pd.DataFrame, batch: int = 50) -> list[MatchResult]:
    return [
        r
        for start in range(0, len(intakes), batch)
        for r in matcher.match_frame(intakes.iloc[start : start + batch], top_k=TOP_K)
    ]


def _answers(results: list[MatchResult]) -> list[tuple[object, ...]]:
    return [
        (r.intake_id, r.status, r.eligible, [(m.therapist_id, m.rank, m.score) for m in r.matches])
        for r in results
    ]


def _impressions(results: list[MatchResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "intake_id": r.intake_id,
                "therapist_id": m.therapist_id,
                "position": m.rank,
                "score": m.predicted_benefit,
            }
            for r in results
            for m in r.matches
        ]
    )


def test_strength_zero_is_identity(fitted: tuple[MatchModel, Dataset]) -> None:
    model, ds = fitted
    intakes = ds.intakes.head(400)
    plain = _answers(Matcher(model, ds.therapists).match_frame(intakes, top_k=TOP_K))
    off = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=0.0))
    assert _answers(_serve(off, intakes)) == plain
    assert _answers(_serve(off, intakes)) == plain  # served twice: still nothing remembered
    assert off.exposure.totals().empty
    # On, but nothing served yet: every deficit is 0, so the first batch is unchanged too.
    on = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=1.0))
    first = on.match_frame(intakes.head(50), top_k=TOP_K)
    assert _answers(first) == plain[:50]


def _eligible(matcher: Matcher, intakes: pd.DataFrame) -> pd.DataFrame:
    """Every scored (intake, therapist) pair with its predicted benefit as merit."""
    batch = matcher.pool.encode_intakes(intakes)
    _, scored = matcher.score_batch(batch, triage(batch))
    return pd.DataFrame(
        {
            "intake_id": batch.ids[scored.pairs.intake_idx],
            "therapist_id": matcher.pool.ids[scored.pairs.therapist_idx],
            "merit": scored.score,
        }
    )


def test_strength_above_zero_moves_exposure_towards_merit(
    fitted: tuple[MatchModel, Dataset],
) -> None:
    model, ds = fitted
    intakes = ds.intakes.head(1000)
    eligible = _eligible(Matcher(model, ds.therapists), intakes)
    gap, benefit, pairs = {}, {}, {}
    for strength in (0.0, 0.5, 1.0):
        matcher = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=strength))
        shown = _impressions(_serve(matcher, intakes))
        state = ExposureReranker(strength).fit(shown, eligible)
        exposure, target = state.state(state.target_.index)
        # TV distance between the exposure and the merit-proportional target, per therapist
        gap[strength] = 0.5 * np.abs(exposure / exposure.sum() - target / target.sum()).sum()
        benefit[strength] = shown["score"].mean()
        pairs[strength] = set(zip(shown["intake_id"], shown["therapist_id"], strict=True))
    assert gap[0.5] < 0.95 * gap[0.0], gap
    assert gap[1.0] < gap[0.5], gap
    assert pairs[0.5] != pairs[0.0]
    assert benefit[1.0] > 0.95 * benefit[0.0], benefit  # a small cost in predicted benefit


def test_running_totals_match_the_fairness_definitions(
    fitted: tuple[MatchModel, Dataset],
) -> None:
    model, ds = fitted
    intakes = ds.intakes.head(120)
    matcher = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=0.5))
    results = matcher.match_frame(intakes, top_k=TOP_K)  # one batch: the state was empty
    reference = ExposureReranker(0.5).fit(_impressions(results), _eligible(matcher, intakes))
    totals = matcher.exposure.totals()
    ids = reference.target_.index
    np.testing.assert_allclose(
        totals.loc[reference.exposure_.index, "exposure"], reference.exposure_
    )
    np.testing.assert_allclose(totals.loc[ids, "target"], reference.target_, atol=1e-12)
    assert totals["exposure"].sum() == pytest.approx(totals["target"].sum())


def test_totals_carry_over_a_pool_change(fitted: tuple[MatchModel, Dataset]) -> None:
    model, ds = fitted
    matcher = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=0.25))
    matcher.match_frame(ds.intakes.head(100), top_k=TOP_K)
    before = matcher.exposure.totals()
    smaller = matcher.with_therapists(ds.therapists.iloc[5:])
    assert smaller.exposure is matcher.exposure
    pd.testing.assert_frame_equal(smaller.exposure.totals(), before)
    smaller.match_frame(ds.intakes.iloc[100:200], top_k=TOP_K)
    assert smaller.exposure.totals()["exposure"].sum() > before["exposure"].sum()


def test_concurrent_requests_lose_no_update(fitted: tuple[MatchModel, Dataset]) -> None:
    model, ds = fitted
    matcher = Matcher(model, ds.therapists, MatcherConfig(exposure_mitigation=0.5))
    records = ds.intakes.head(160).to_dict("records")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda r: matcher.match([r], top_k=TOP_K), records))
    expected = sum(float(position_weight(m.rank)) for r in results for m in r.matches)
    totals = matcher.exposure.totals()
    assert totals["exposure"].sum() == pytest.approx(expected)
    assert totals["target"].sum() == pytest.approx(expected)


def test_strength_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="exposure_mitigation"):
        MatcherConfig(exposure_mitigation=1.5)
