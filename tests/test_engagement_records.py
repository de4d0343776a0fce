"""TrainConfig.engagement_records: whether the engagement head may read track records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.dataset import load_dataset
from features.encoding import TherapistPool
from features.pipeline import FEATURE_NAMES, TRACK_RECORD_COLUMNS, FeaturePipeline
from training.config import TrainConfig
from training.fit import fit_boosters
from training.matrices import logged_rows

RECORDS = [FEATURE_NAMES[k] for k in TRACK_RECORD_COLUMNS]


@pytest.mark.parametrize("records", [True, False])
def test_engagement_head_reads_records_only_when_allowed(small_world: Path, records: bool) -> None:
    """Off, no engagement split reads a track-record column and the engagement prediction of
    a pair does not move when its therapist's record does; the outcome head still reads them.
    On, the engagement head does split on them in this world."""
    ds = load_dataset(small_world)
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    pipeline = FeaturePipeline(text_dims=8).fit(ds, pool, batch)
    rows = logged_rows(pipeline, ds, pool, folds=3, batch=batch)
    config = TrainConfig(folds=3, max_rounds=100, engagement_records=records)
    model, _ = fit_boosters(rows, config, pipeline)
    assert model.engagement is not None
    names = model.engagement.feature_name()
    used = dict(zip(names, model.engagement.feature_importance("split"), strict=True))
    assert bool(sum(used[n] for n in RECORDS) > 0) is records
    outcome_used = dict(
        zip(model.outcome.feature_name(), model.outcome.feature_importance("split"), strict=True)
    )
    assert sum(outcome_used[n] for n in RECORDS) > 0
    moved = rows.x.copy()
    moved[:, TRACK_RECORD_COLUMNS] = np.random.default_rng(0).permutation(
        moved[:, TRACK_RECORD_COLUMNS]
    )
    same = np.array_equal(model.engagement_probability(rows.x), model.engagement_probability(moved))
    assert bool(same) is not records
