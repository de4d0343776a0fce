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
