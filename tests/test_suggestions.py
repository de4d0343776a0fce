"""Suggestions for a client nobody fits: the change that finds someone, never past safety."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.encoding import Pairs, TherapistPool
from matcher.eligibility import CHECKS, eligible_pairs
from matcher.results import CONSTRAINTS, Suggestion
from matcher.suggestions import RELAXABLE, suggestions
from tests.factories import intake, intake_records, intakes_frame, therapist, therapists_frame

POOL = [
    therapist(therapist_id="t1", formats=["video"], session_fee=160.0),
    therapist(therapist_id="t2", formats=["video", "phone"], session_fee=180.0),
    therapist(therapist_id="t3", formats=["phone"], languages=["es"], session_fee=90.0),
]


def _advise(pool: list[dict[str, Any]], **client: Any) -> list[Suggestion]:
    therapists = TherapistPool.from_frame(therapists_frame(pool))
    batch = therapists.encode_intakes(intakes_frame([intake(**client)]))
    elig = eligible_pairs(batch, therapists)
    assert elig.n_eligible[0] == 0, "the test client must have nobody eligible"
    return suggestions(batch, therapists, np.array([0]), elig.excluded)[0]


def test_format_suggestion_counts_who_would_fit() -> None:
    advice = _advise(POOL, preferred_formats=["chat"])
    (format_,) = [s for s in advice if s.constraint == "format"]
    assert format_.therapists == 2 and "video" in format_.message


def test_language_suggestion_names_the_language() -> None:
    advice = _advise(POOL, preferred_formats=["phone"], languages=["de"])
    (language,) = [s for s in advice if s.constraint == "language"]
    assert language.therapists == 2 and "en" in language.message


def test_fee_limit_suggestion_gives_the_lowest_limit_that_admits_someone() -> None:
    advice = _advise(POOL, payment="self_pay", max_session_fee=100.0, preferred_formats=["video"])
    (payment,) = [s for s in advice if s.constraint == "payment"]
    assert payment.therapists == 1 and "$160" in payment.message


def test_insured_client_is_told_about_self_pay() -> None:
    advice = _advise(POOL, payment="cigna")
    (payment,) = [s for s in advice if s.constraint == "payment"]
    assert payment.therapists == 2 and "self-pay" in payment.message


def test_region_nobody_is_licensed_in_is_stated_not_suggested() -> None:
    advice = _advise(POOL, region="DE")
    assert advice == [Suggestion("region", "No therapist here is licensed in DE.", 0)]


def test_crisis_training_is_never_relaxed() -> None:
    """An item-9 = 1 client with only untrained therapists: no change they make finds anyone."""
    advice = _advise(POOL, phq9_item9=1, preferred_formats=["chat"])
    assert all(s.therapists == 0 for s in advice)
    assert not any(s.constraint == "crisis_training" and s.therapists for s in advice)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_suggestion_is_true(data: st.DataObject) -> None:
    """Relaxing exactly the suggested constraint admits at least the promised therapists."""
    pool = TherapistPool.from_frame(therapists_frame(POOL))
    records = data.draw(intake_records(3))
    batch = pool.encode_intakes(intakes_frame(records))
    elig = eligible_pairs(batch, pool)
    unmatched = np.flatnonzero(elig.n_eligible == 0)
    for i, advice in suggestions(batch, pool, unmatched, elig.excluded).items():
        pairs = Pairs(np.full(len(pool), i, dtype=np.int64), np.arange(len(pool), dtype=np.int64))
        passes = {name: check(batch, pool, pairs) for name, check in CHECKS.items()}
        for s in advice:
            assert s.constraint in CONSTRAINTS
            if s.therapists == 0:
                continue
            assert s.constraint in RELAXABLE
            others = np.logical_and.reduce([ok for n, ok in passes.items() if n != s.constraint])
            if s.constraint == "payment":
                assert 0 < s.therapists <= others.sum()
            else:
                assert s.therapists == others.sum()


@pytest.mark.parametrize("constraint", RELAXABLE)
def test_relaxable_constraints_exclude_safety(constraint: str) -> None:
    assert constraint not in ("crisis_training", "region", "age_group", "capacity")


def test_when_no_single_change_helps_the_statement_names_what_rules_them_out() -> None:
    advice = _advise(POOL, languages=["de"], payment="self_pay", max_session_fee=10.0)
    (only,) = advice
    assert only.therapists == 0
    assert only.message.startswith("No single change finds a therapist: of the 3 licensed in US-CA")
    assert "by language" in only.message


def test_suggestions_through_the_region_index_are_the_same() -> None:
    """Trying only the therapists licensed in the client's region changes no suggestion."""
    from pathlib import Path

    from features.dataset import load_dataset
    from matcher.eligibility import CandidateIndex

    data = load_dataset(Path(__file__).resolve().parents[1] / "data" / "sample")
    intakes = data.intakes.iloc[:400].copy()
    intakes.loc[intakes.index[:4], "region"] = "ZZ-QQ"
    intakes.loc[intakes.index[4:40], "languages"] = pd.Series(
        [["tl"]] * 36, index=intakes.index[4:40]
    )
    pool = TherapistPool.from_frame(data.therapists)
    batch = pool.encode_intakes(intakes)
    elig = eligible_pairs(batch, pool)
    unmatched = np.flatnonzero(elig.n_eligible == 0)
    assert len(unmatched) >= 10
    full = suggestions(batch, pool, unmatched, elig.excluded)
    fast = suggestions(batch, pool, unmatched, elig.excluded, index=CandidateIndex(pool))
    assert fast == full
    assert any(s.therapists > 0 for found in full.values() for s in found)
