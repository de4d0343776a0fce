"""The synthetic world: deterministic, contract-valid, safe lists, and calibrated to SPEC §5."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.dataset import load_dataset
from features.encoding import Pairs, TherapistPool
from features.vocab import HOURS_PER_WEEK
from matcher.eligibility import eligible_pairs, filter_pairs
from matcher.triage import Route, triage
from synth import SyntheticWorld, WorldConfig, WorldTruth, generate_world
from synth.calibration import calibration_report
from synth.candidates import candidate_blocks, candidate_pairs
from synth.sample import SAMPLE_CONFIG, SAMPLE_FOLDER
from synth.sampling import ordered_subset, weekly_hours

TABLES = ("therapists", "intakes", "interactions")
SMALL = WorldConfig(n_therapists=60, n_intakes=800, seed=5)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    """Large enough that the SPEC §5 figures are measured with little noise (~1.5 s)."""
    return generate_world(WorldConfig(n_therapists=300, n_intakes=10_000, seed=3))


@pytest.fixture(scope="module")
def report(world: SyntheticWorld) -> dict[str, float]:
    return calibration_report(world)


@pytest.fixture(scope="module")
def small() -> SyntheticWorld:
    return generate_world(SMALL)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_same_seed_writes_identical_files(tmp_path: Path, small: SyntheticWorld) -> None:
    small.write(tmp_path / "a")
    generate_world(SMALL).write(tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(a) == {
        "therapists.csv",
        "intakes.csv",
        "interactions.csv",
        "truth/world.json",
        "truth/therapist_traits.parquet",
        "truth/intake_traits.parquet",
    }
    assert a == b


def test_another_seed_gives_another_world(small: SyntheticWorld) -> None:
    other = generate_world(dataclasses.replace(SMALL, seed=6))
    assert not small.dataset.intakes["concerns"].equals(other.dataset.intakes["concerns"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_world_loads_back_identically(
    tmp_path: Path, small: SyntheticWorld, fmt: str
) -> None:
    small.write(tmp_path, fmt=fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no unknown columns either
        loaded = load_dataset(tmp_path)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(small.dataset, name))
    truth = WorldTruth.load(tmp_path)
    assert truth.config == small.truth.config
    assert truth.coefficients == small.truth.coefficients
    assert truth.holdout_cutoff == small.truth.holdout_cutoff
    assert truth.holdout_intake_ids == small.truth.holdout_intake_ids
    pd.testing.assert_frame_equal(truth.therapist_traits, small.truth.therapist_traits)
    pd.testing.assert_frame_equal(truth.intake_traits, small.truth.intake_traits)


def test_holdout_is_the_latest_fifth(small: SyntheticWorld) -> None:
    intakes = small.dataset.intakes
    held = intakes["intake_id"].isin(small.truth.holdout_intake_ids)
    assert held.sum() == round(0.2 * len(intakes))
    assert intakes.loc[held, "submitted_at"].min() == small.truth.holdout_cutoff
    assert intakes.loc[~held, "submitted_at"].max() <= small.truth.holdout_cutoff
    assert small.dataset.interactions["intake_id"].isin(small.truth.holdout_intake_ids).any()


@pytest.mark.slow
def test_marginals_are_realistic(world: SyntheticWorld, report: dict[str, float]) -> None:
    intakes = world.dataset.intakes
    assert 0.03 <= report["item9_is_1_share"] <= 0.05
    assert 0.01 <= report["item9_2plus_share"] <= 0.02
    assert report["crisis_share"] < 0.03
    assert intakes["concerns"].map(len).between(1, 5).all()
    assert 0.25 <= (intakes["preferred_therapist_genders"].map(len) > 0).mean() <= 0.35
    assert 0.10 <= intakes["low_bandwidth"].mean() <= 0.20
    assert 0.25 <= world.dataset.therapists["crisis_trained"].mean() <= 0.35
    assert (intakes["submitted_at"].max() - intakes["submitted_at"].min()).days >= 500
    assert 0.20 <= report["no_choice_rate"] <= 0.30


def test_outcome_rates_match_the_literature(report: dict[str, float]) -> None:
    assert 0.15 <= report["dropout_rate"] <= 0.25  # Swift & Greenberg 2012: ≈ 20%
    assert 0.40 <= report["improvement_rate_starters"] <= 0.50  # Delgadillo et al.: 40–50%
    assert 0.18 <= report["alliance_improvement_r"] <= 0.38  # Flückiger et al. 2018: .28
    assert 0.025 <= report["therapist_variance_share"] <= 0.10  # Wampold & Brown 2005: ~5%
    assert 0.02 <= report["poor_domain_therapist_share"] <= 0.08  # Kraus et al. 2011: 4–5%


def test_preferences_and_formats_act_as_published(report: dict[str, float]) -> None:
    assert 1.3 <= report["preference_dropout_or"] <= 2.5  # Swift et al. 2018: OR ≈ 1.8
    assert 0.1 <= report["preference_improvement_d"] <= 0.5  # d ≈ 0.28
    assert report["same_ethnicity_choice_d"] >= 0.3  # Cabral & Smith 2011: d .63 on choice
    assert report["video_dropout"] >= report["phone_dropout"]  # Lin et al. 2022
    assert report["low_bandwidth_video_dropout"] > report["video_dropout"]
    retained = report["video_improvement_retained"] - report["phone_improvement_retained"]
    assert abs(retained) < 0.05  # no outcome difference once in therapy
    assert report["domain_matching_d_severe"] > report["domain_matching_d_other"] > 0


def test_truth_generated_the_outcomes(world: SyntheticWorld) -> None:
    """The booked pairs' mean true P(good) is the observed good-outcome rate."""
    ds = world.dataset
    rows = ds.interactions[ds.interactions["chosen"].to_numpy(dtype=bool)]
    p = world.truth.p_good(ds.intakes, ds.therapists, rows["intake_id"], rows["therapist_id"])
    sessions = rows["sessions_attended"].to_numpy(dtype=float)
    good = (
        (sessions >= 4)
        & ~rows["dropped_out"].to_numpy(dtype=bool)
        & rows["reliable_improvement"].fillna(False).to_numpy(dtype=bool)
    )
    assert abs(p.mean() - good.mean()) < 0.02


def test_profile_oracle_leaves_room_for_track_records(report: dict[str, float]) -> None:
    assert report["u_random_at_5"] < report["u_profile_oracle_at_5"] < report["u_oracle_at_5"]
    assert 0.2 <= report["profile_oracle_uplift_captured"] <= 0.8


def test_crisis_intakes_get_no_list(world: SyntheticWorld) -> None:
    intakes = world.dataset.intakes
    crisis = intakes["crisis_now"].fillna(False) | (intakes["phq9_item9"].fillna(0) >= 2)
    assert crisis.any()
    assert not world.dataset.interactions["intake_id"].isin(intakes.loc[crisis, "intake_id"]).any()


def test_item9_one_is_shown_crisis_trained_only(world: SyntheticWorld) -> None:
    ds = world.dataset
    watch = ds.intakes.loc[ds.intakes["phq9_item9"] == 1, "intake_id"]
    shown = ds.interactions[ds.interactions["intake_id"].isin(watch)]
    trained = ds.therapists.loc[ds.therapists["crisis_trained"].fillna(False), "therapist_id"]
    assert len(shown) > 0
    assert shown["therapist_id"].isin(trained).all()


def test_every_shown_therapist_is_eligible(world: SyntheticWorld) -> None:
    ds = world.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    i = pd.Index(batch.ids).get_indexer(ds.interactions["intake_id"])
    j = pool.positions(ds.interactions["therapist_id"].tolist())
    kept = filter_pairs(batch, pool, Pairs(i.astype(np.int64), j)).pairs
    assert len(kept) == len(ds.interactions)


def test_licence_join_finds_the_same_candidates_as_the_full_funnel(small: SyntheticWorld) -> None:
    ds = small.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    full = eligible_pairs(batch, pool).pairs
    full = full.take(triage(batch).route[full.intake_idx] != Route.CRISIS)
    joined = candidate_pairs(batch, pool)
    np.testing.assert_array_equal(joined.intake_idx, full.intake_idx)
    np.testing.assert_array_equal(joined.therapist_idx, full.therapist_idx)
    blocks = list(candidate_blocks(batch, pool, max_block_pairs=500))
    assert len(blocks) > 5
    np.testing.assert_array_equal(np.concatenate([b.intake_idx for b in blocks]), full.intake_idx)
    np.testing.assert_array_equal(
        np.concatenate([b.therapist_idx for b in blocks]), full.therapist_idx
    )


def test_lists_are_well_formed(world: SyntheticWorld) -> None:
    x = world.dataset.interactions
    per_list = x.groupby("intake_id")["position"].agg(["min", "max", "count"])
    assert (per_list["min"] == 1).all() and (per_list["max"] == per_list["count"]).all()
    assert per_list["count"].max() <= 10
    assert x.groupby("intake_id")["chosen"].sum().max() == 1
    outcome = x[["sessions_attended", "dropped_out", "alliance", "reliable_improvement"]]
    assert outcome[~x["chosen"].to_numpy(dtype=bool)].isna().all().all()
    chosen = x[x["chosen"].to_numpy(dtype=bool)]
    assert chosen["sessions_attended"].notna().all() and chosen["dropped_out"].notna().all()
    assert chosen["alliance"].dropna().between(1, 5).all()


def test_p_good_is_a_probability_and_profile_oracle_hides_only_therapists(
    small: SyntheticWorld,
) -> None:
    ds, truth = small.dataset, small.truth
    ids = ds.interactions["intake_id"], ds.interactions["therapist_id"]
    full = truth.p_good(ds.intakes, ds.therapists, *ids)
    profile = truth.p_good(ds.intakes, ds.therapists, *ids, profile_only=True)
    assert ((full > 0) & (full < 1)).all() and ((profile > 0) & (profile < 1)).all()
    assert not np.allclose(full, profile)
    average = dataclasses.replace(truth, therapists=truth.therapists.averaged())
    np.testing.assert_allclose(average.p_good(ds.intakes, ds.therapists, *ids), profile)
    shuffled = dataclasses.replace(
        truth,
        therapists=dataclasses.replace(
            truth.therapists, general=truth.therapists.general[::-1].copy()
        ),
    )
    np.testing.assert_allclose(
        shuffled.p_good(ds.intakes, ds.therapists, *ids, profile_only=True), profile
    )


def test_p_good_scores_pairs_never_shown(small: SyntheticWorld) -> None:
    ds = small.dataset
    pairs = Pairs.cross(20, len(ds.therapists))
    p = small.truth.p_good(
        ds.intakes,
        ds.therapists,
        ds.intakes["intake_id"].to_numpy()[pairs.intake_idx],
        ds.therapists["therapist_id"].to_numpy()[pairs.therapist_idx],
    )
    assert p.shape == (len(pairs),) and np.isfinite(p).all()


def test_encoded_pairs_score_as_pairs_by_id(small: SyntheticWorld) -> None:
    """Evaluation scores its already-encoded pairs (pair_p_good): the same values, bit for bit,
    as looking the pairs up by id, full and profile-only, on a shuffled subset of intakes."""
    ds = small.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    intakes = ds.intakes.sample(frac=0.5, random_state=3)
    batch = pool.encode_intakes(intakes)
    pairs = eligible_pairs(batch, pool).pairs
    ids = (batch.ids[pairs.intake_idx], pool.ids[pairs.therapist_idx])
    true, profile_only = small.truth.pair_p_good(batch, pool, pairs)
    assert len(pairs) > 100
    assert np.array_equal(true, small.truth.p_good(ds.intakes, ds.therapists, *ids))
    assert np.array_equal(
        profile_only, small.truth.p_good(ds.intakes, ds.therapists, *ids, profile_only=True)
    )
    assert not np.array_equal(true, profile_only)


@pytest.mark.parametrize("n_regions", [1, 50])
def test_region_count_is_configurable(n_regions: int) -> None:
    w = generate_world(WorldConfig(n_therapists=80, n_intakes=300, seed=1, n_regions=n_regions))
    licensed = {r for rs in w.dataset.therapists["licensed_regions"] for r in rs}
    assert len(licensed) <= n_regions
    assert len(w.dataset.interactions) > 0


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_therapists=st.integers(1, 40),
    n_intakes=st.integers(1, 120),
)
def test_any_small_world_passes_the_contract(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n_therapists: int, n_intakes: int
) -> None:
    world = generate_world(WorldConfig(n_therapists=n_therapists, n_intakes=n_intakes, seed=seed))
    folder = world.write(tmp_path_factory.mktemp("world"))
    assert load_dataset(folder).summary() == world.dataset.summary()


@given(
    offsets=st.lists(st.integers(-12, 12), min_size=1, max_size=30),
    seed=st.integers(0, 1000),
)
def test_everyone_has_some_hours(offsets: list[int], seed: int) -> None:
    hours = weekly_hours(np.random.default_rng(seed), (0.3, 0.2, 0.6, 0.4), np.array(offsets))
    assert hours.shape == (len(offsets), HOURS_PER_WEEK) and hours.any(axis=1).all()


@given(sizes=st.lists(st.integers(0, 8), min_size=1, max_size=20), seed=st.integers(0, 1000))
def test_ordered_subset_draws_distinct_items(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes, drawn = ordered_subset(rng, np.linspace(1, 2, 6), np.array(sizes))
    for row, k in zip(range(len(sizes)), sizes, strict=True):
        picked = codes[row][drawn[row]]
        assert len(picked) == min(k, 6) == len(set(picked.tolist()))


@pytest.mark.slow
def test_shipped_sample_is_current() -> None:
    """data/sample is what ``python -m synth.sample`` writes today."""
    shipped = load_dataset(SAMPLE_FOLDER)
    truth = WorldTruth.load(SAMPLE_FOLDER)
    assert truth.config == SAMPLE_CONFIG
    fresh = generate_world(SAMPLE_CONFIG)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(shipped, name), getattr(fresh.dataset, name))
    assert truth.coefficients == fresh.truth.coefficients
