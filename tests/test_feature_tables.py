"""The pipeline's shortcuts (therapist-only columns gathered from a per-pool table, shared
intermediates computed once per batch) give every feature exactly as its own formula does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.dataset import load_dataset
from features.encoding import Pairs, TherapistPool
from features.pipeline import (
    FEATURES,
    THERAPIST_COLUMNS,
    TRACK_RECORD_COLUMNS,
    FeaturePipeline,
    PairContext,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def fitted() -> tuple[FeaturePipeline, TherapistPool, object, Pairs]:
    data = load_dataset(SAMPLE)
    pipe = FeaturePipeline().fit(data)
    pool = TherapistPool.from_frame(data.therapists)
    batch = pool.encode_intakes(data.intakes.iloc[:40])
    rng = np.random.default_rng(3)
    pairs = Pairs(rng.integers(0, len(batch), 3000), rng.integers(0, len(pool), 3000))
    return pipe, pool, batch, pairs


def by_formula(pipe: FeaturePipeline, pool: TherapistPool, batch: object, pairs: Pairs) -> object:
    """Each column from its own ``compute`` on a fresh context (nothing shared or tabled)."""
    out = np.empty((len(pairs), len(FEATURES)), dtype=np.float32)
    for k, feature in enumerate(FEATURES):
        ctx = PairContext(
            batch=batch,  # type: ignore[arg-type]
            pool=pool,
            i=pairs.intake_idx,
            j=pairs.therapist_idx,
            tables=pipe._pool_tables(pool, pipe.track_record_),
            intake_text=pipe.intake_text(batch),  # type: ignore[arg-type]
        )
        out[:, k] = feature.compute(ctx)
    return out


def test_transform_equals_each_features_formula(fitted: tuple) -> None:
    pipe, pool, batch, pairs = fitted
    want = by_formula(pipe, pool, batch, pairs)
    got = pipe.transform(batch, pool, pairs)
    assert len(THERAPIST_COLUMNS) > 0
    assert np.array_equal(got, want, equal_nan=True)
    # a subset of columns, and written into a wider matrix, as training does per fold
    subset = pipe.transform(batch, pool, pairs, columns=TRACK_RECORD_COLUMNS)
    assert np.array_equal(subset, want[:, TRACK_RECORD_COLUMNS], equal_nan=True)
    into = np.full_like(want, -7.0)
    pipe.transform(batch, pool, pairs, columns=TRACK_RECORD_COLUMNS, into=into)
    assert np.array_equal(
        into[:, TRACK_RECORD_COLUMNS], want[:, TRACK_RECORD_COLUMNS], equal_nan=True
    )
    others = np.setdiff1d(np.arange(len(FEATURES)), TRACK_RECORD_COLUMNS)
    assert (into[:, others] == -7.0).all()


def test_therapist_only_features_read_no_intake(fitted: tuple) -> None:
    """The tabled columns are the same whichever intake a pair has."""
    pipe, pool, batch, pairs = fitted
    x = by_formula(pipe, pool, batch, pairs)
    shifted = Pairs((pairs.intake_idx + 1) % len(batch), pairs.therapist_idx)
    y = by_formula(pipe, pool, batch, shifted)
    assert np.array_equal(x[:, THERAPIST_COLUMNS], y[:, THERAPIST_COLUMNS], equal_nan=True)


def test_one_intake_gives_the_same_features_as_in_a_batch(fitted: tuple) -> None:
    """A serving request (a batch of one intake, whose side is broadcast instead of gathered)
    gets bit for bit the features training computes for the same pairs in a larger batch."""
    pipe, pool, batch, _ = fitted
    rng = np.random.default_rng(5)
    therapists = rng.integers(0, len(pool), 400)
    # The same text vectors (LSA of one text or of forty differs in the last bits).
    text = pipe.intake_text(batch)
    for k in range(len(batch)):
        in_batch = pipe.transform(batch, pool, Pairs(np.full(400, k), therapists))
        one = batch.take(np.array([k]))
        pairs = Pairs(np.zeros(400, dtype=np.int64), therapists)
        alone = pipe.transform(one, pool, pairs, intake_text=text[[k]])
        assert np.array_equal(alone, in_batch, equal_nan=True), k


def test_concern_weighted_features_follow_their_formula(fitted: tuple) -> None:
    """concern_fit = Σ_k w_k·[concern_k ∈ specialties] / Σ_k w_k and tr_concerns =
    Σ_k w_k·rate(domain_k) / Σ_k w_k with w_k = 1/k, against a loop over each pair's concerns."""
    from features.encoding import CONCERN_DOMAIN_CODE

    pipe, pool, batch, pairs = fitted
    x = pipe.transform(batch, pool, pairs)
    names = [f.name for f in FEATURES]
    rates = pipe._pool_tables(pool, pipe.track_record_)["tr"]["domain"]
    for p in range(0, len(pairs), 7):
        i, j = pairs.intake_idx[p], pairs.therapist_idx[p]
        codes = [int(c) for c in batch.concerns[i] if c >= 0]
        w = [1 / (k + 1) for k in range(len(codes))]
        spec = int(pool.specialties[j])
        fit = sum(wk for wk, c in zip(w, codes, strict=True) if spec >> c & 1) / max(sum(w), 1e-9)
        mean = sum(wk * rates[j, CONCERN_DOMAIN_CODE[c]] for wk, c in zip(w, codes, strict=True))
        mean = mean / max(sum(w), 1e-9) if codes else 0.0
        assert x[p, names.index("concern_fit")] == pytest.approx(fit, abs=1e-6)
        assert x[p, names.index("tr_concerns")] == pytest.approx(mean, abs=1e-6)


def test_preference_fit_is_the_mean_over_the_preferences_stated(fitted: tuple) -> None:
    """preference_fit = mean of gender_fit, modality_fit, cultural_fit over those not NaN (the
    kinds the client stated), NaN when the client stated none; against a loop over pairs."""
    pipe, pool, batch, pairs = fitted
    x = pipe.transform(batch, pool, pairs)
    names = [f.name for f in FEATURES]
    kinds = x[:, [names.index(n) for n in ("gender_fit", "modality_fit", "cultural_fit")]]
    got = x[:, names.index("preference_fit")]
    for p in range(len(pairs)):
        stated = [float(v) for v in kinds[p] if not np.isnan(v)]
        if stated:
            assert got[p] == pytest.approx(sum(stated) / len(stated), abs=1e-6)
        else:
            assert np.isnan(got[p])
    counts = (~np.isnan(kinds)).sum(axis=1)
    assert {0, 1, 2} <= set(counts.tolist())  # the sample exercises none, one and several


def test_the_feature_page_in_docs_is_generated_from_the_pipeline() -> None:
    from features.feature_doc import render_markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "features.md"
    assert page.read_text(encoding="utf-8") == render_markdown(), (
        "docs/features.md is stale: run python -m features.feature_doc docs/features.md"
    )
