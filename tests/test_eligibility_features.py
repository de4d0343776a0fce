"""Hard constraints and feature invariants, checked against a per-pair reference on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.dataset import Dataset, empty_table
from features.encoding import Pairs, TherapistPool
from features.pipeline import FEATURE_NAMES, FeaturePipeline
from features.schemas import INTERACTIONS
from matcher.eligibility import eligible_pairs, failing_constraint
from matcher.results import CONSTRAINTS
from matcher.triage import Route, triage
from tests.factories import (
    intake,
    intake_records,
    intakes_frame,
    therapist,
    therapist_records,
    therapists_frame,
)


def reference_fails(t: pd.Series, i: pd.Series) -> list[str]:
    """The constraints a pair breaks, written the slow obvious way (SPEC §3)."""
    fails = []
    region, country = i["region"], i["region"].split("-")[0]
    if region not in t["licensed_regions"] and country not in t["licensed_regions"]:
        fails.append("region")
    if i["age_group"] not in t["age_groups_served"]:
        fails.append("age_group")
    if not set(i["languages"]) & set(t["languages"]):
        fails.append("language")
    if not set(i["preferred_formats"]) & set(t["formats"]):
        fails.append("format")
    fee, cap = t["session_fee"], i["max_session_fee"]
    too_dear = i["payment"] == "self_pay" and pd.notna(fee) and pd.notna(cap) and fee > cap
    if i["payment"] not in t["payers_accepted"] or too_dear:
        fails.append("payment")
    if not (t["accepting_new_clients"] and t["current_caseload"] < t["max_caseload"]):
        fails.append("capacity")
    if not set(i["availability"]) & set(t["availability"]):
        fails.append("availability")
    # ≥ 2 is routed to crisis before eligibility; the engine still requires crisis training.
    if pd.notna(i["phq9_item9"]) and i["phq9_item9"] >= 1 and not t["crisis_trained"]:
        fails.append("crisis_training")
    return fails


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t_recs=therapist_records(6), i_recs=intake_records(4))
def test_eligible_iff_no_constraint_fails(t_recs, i_recs) -> None:
    therapists, intakes = therapists_frame(t_recs), intakes_frame(i_recs)
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    elig = eligible_pairs(batch, pool)
    got = set(zip(elig.pairs.intake_idx.tolist(), elig.pairs.therapist_idx.tolist(), strict=True))
    first = failing_constraint(batch, pool, Pairs.cross(len(intakes), len(therapists)))
    for a in range(len(intakes)):
        for b in range(len(therapists)):
            fails = reference_fails(therapists.iloc[b], intakes.iloc[a])
            assert ((a, b) in got) == (not fails)
            expected_first = CONSTRAINTS.index(fails[0]) if fails else -1
            assert first[a * len(therapists) + b] == expected_first
    # The funnel accounts for every candidate exactly once.
    assert (elig.excluded.sum(1) + elig.n_eligible == elig.candidates).all()
    assert (elig.candidates == len(therapists)).all()


def test_hard_rules_compare_amounts_as_given() -> None:
    # Each pair's two amounts are one float32 apart or less: fee a cent (or a subnormal) above
    # the cap breaks payment; one free slot beyond 2**24 clients is still a free slot.
    therapists = therapists_frame(
        [
            therapist(therapist_id="dear", session_fee=1_000_000.01),
            therapist(therapist_id="tiny", session_fee=2.225e-311),
            therapist(therapist_id="big", max_caseload=2**24 + 1, current_caseload=2**24),
        ]
    )
    intakes = intakes_frame(
        [
            intake(intake_id="a", payment="self_pay", max_session_fee=1_000_000.0),
            intake(intake_id="b", payment="self_pay", max_session_fee=0.0),
            intake(intake_id="c"),
        ]
    )
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    first = failing_constraint(batch, pool, Pairs(np.arange(3), np.arange(3)))
    assert first.tolist() == [CONSTRAINTS.index("payment")] * 2 + [-1]


def _fitted(therapists: pd.DataFrame, intakes: pd.DataFrame) -> FeaturePipeline:
    history = Dataset(therapists, intakes, empty_table(INTERACTIONS))
    return FeaturePipeline(text_dims=4).fit(history)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t_recs=therapist_records(5), i_recs=intake_records(4), pick=st.integers(0, 3))
def test_features_same_for_one_intake_or_a_batch(t_recs, i_recs, pick) -> None:
    therapists, intakes = therapists_frame(t_recs), intakes_frame(i_recs)
    pool = TherapistPool.from_frame(therapists)
    pipe = _fitted(therapists, intakes)
    batch = pool.encode_intakes(intakes)
    x_all = pipe.transform(batch, pool, Pairs.cross(len(intakes), len(therapists)))
    one = pool.encode_intakes(intakes.iloc[[pick]])
    x_one = pipe.transform(one, pool, Pairs.cross(1, len(therapists)))
    rows = slice(pick * len(therapists), (pick + 1) * len(therapists))
    np.testing.assert_allclose(x_one, x_all[rows], rtol=1e-5, atol=1e-6)
    assert x_all.shape == (len(intakes) * len(therapists), len(FEATURE_NAMES))
    shares = [FEATURE_NAMES.index(n) for n in ("concern_fit", "format_fit", "availability_share")]
    assert np.nanmin(x_all[:, shares]) >= 0 and np.nanmax(x_all[:, shares]) <= 1


def test_preferences_drive_their_features() -> None:
    therapists = therapists_frame(
        [
            therapist(
                therapist_id="a", gender="woman", specialties=["anxiety"], languages=["en", "es"]
            ),
            therapist(therapist_id="b", gender="man", specialties=["grief_loss"], languages=["en"]),
        ]
    )
    intakes = intakes_frame(
        [
            intake(
                preferred_therapist_genders=["woman"],
                concerns=["anxiety", "sleep"],
                languages=["es", "en"],
            )
        ]
    )
    pool = TherapistPool.from_frame(therapists)
    x = _fitted(therapists, intakes).transform(
        pool.encode_intakes(intakes), pool, Pairs.cross(1, 2)
    )
    col = {n: k for k, n in enumerate(FEATURE_NAMES)}
    assert x[0, col["gender_fit"]] == 1 and x[1, col["gender_fit"]] == 0
    assert x[0, col["concern_fit"]] > x[1, col["concern_fit"]]
    assert x[0, col["other_language_fit"]] == 1 and x[1, col["other_language_fit"]] == 0
    assert np.isnan(x[0, col["modality_fit"]])  # no stated preference → missing, not 0


def test_triage_routes() -> None:
    therapists = therapists_frame([therapist()])
    intakes = intakes_frame(
        [
            intake(intake_id="ok", phq9_item9=0),
            intake(intake_id="watch", phq9_item9=1),
            intake(intake_id="crisis", phq9_item9=2),
            intake(intake_id="now", phq9_item9=0, crisis_now=True),
            intake(intake_id="severe", phq9=22),
        ]
    )
    t = triage(TherapistPool.from_frame(therapists).encode_intakes(intakes))
    assert t.route.tolist() == [
        Route.STANDARD,
        Route.CRISIS_TRAINED_ONLY,
        Route.CRISIS,
        Route.CRISIS,
        Route.STANDARD,
    ]
    assert t.severe.tolist() == [False, False, False, False, True]
