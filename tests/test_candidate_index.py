"""The serving engine's candidate index (licensed region × age group) is an optimisation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from features.dataset import load_dataset
from features.encoding import Pairs, TherapistPool
from matcher.eligibility import CHECKS, CandidateIndex, eligible_pairs, failing_constraint

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


def test_batch_funnel_is_the_cross_product_funnel() -> None:
    """The batch path (licensed pairs per region, then the other constraints) keeps exactly
    the pairs of the full cross product that fail no constraint, and counts each removed
    therapist under the first constraint it fails; in blocks of intakes too."""
    data = load_dataset(SAMPLE)
    therapists, intakes = data.therapists.copy(), data.intakes.iloc[:300].copy()
    head = therapists.index[:15]
    therapists.loc[head, "licensed_regions"] = pd.Series([["US"]] * 15, index=head)
    intakes.loc[intakes.index[:5], "region"] = "ZZ-QQ"
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    cross = Pairs.cross(len(batch), len(pool))
    first = failing_constraint(batch, pool, cross)
    counts = np.zeros((len(batch), len(CHECKS)), dtype=np.int64)
    np.add.at(counts, (cross.intake_idx[first >= 0], first[first >= 0]), 1)
    for block in (4_000_000, 7 * len(pool)):
        got = eligible_pairs(batch, pool, max_block_pairs=block)
        assert np.array_equal(got.pairs.intake_idx, cross.intake_idx[first < 0])
        assert np.array_equal(got.pairs.therapist_idx, cross.therapist_idx[first < 0])
        assert np.array_equal(got.excluded, counts)
        assert np.array_equal(got.candidates, np.full(len(batch), len(pool)))
    assert counts[:, 0].sum() > 0 and len(got.pairs) > 0
