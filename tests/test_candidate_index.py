"""The serving engine's candidate index (licensed region × age group) is an optimisation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.dataset import load_dataset
from features.encoding import TherapistPool
from matcher.eligibility import CandidateIndex, eligible_pairs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_candidate_index_gives_the_full_funnel_result() -> None:
    """Same pairs in the same order, same candidate and per-constraint counts."""
    data = load_dataset(SAMPLE)
    therapists, intakes = data.therapists.copy(), data.intakes.iloc[:300].copy()
    # Country-wide licences, unknown regions and missing age groups exercise every branch.
    head = therapists.index[:15]
    therapists.loc[head, "licensed_regions"] = pd.Series([["US"]] * 15, index=head)
    intakes.loc[intakes.index[:5], "region"] = "ZZ-QQ"
    intakes.loc[intakes.index[5:8], "age_group"] = None
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    full = eligible_pairs(batch, pool)
    fast = eligible_pairs(batch, pool, index=CandidateIndex(pool))
    assert np.array_equal(full.candidates, fast.candidates)
    assert np.array_equal(full.excluded, fast.excluded)
    assert np.array_equal(full.pairs.intake_idx, fast.pairs.intake_idx)
    assert np.array_equal(full.pairs.therapist_idx, fast.pairs.therapist_idx)
    assert len(fast.pairs) > 0
    assert fast.excluded[:, 0].sum() > 0 and fast.excluded[:, 1].sum() > 0
