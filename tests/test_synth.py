"""The synthetic world: deterministic, valid, and calibrated to SPEC §5 on a seeded run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.dataset import load_dataset
from features.encoding import TherapistPool
from matcher.eligibility import filter_pairs
from training.matrices import logged_pairs
from training.synth import WorldConfig, WorldTruth, generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldConfig(n_therapists=250, n_intakes=6000, seed=3))


def test_same_seed_same_world() -> None:
    a = generate_world(WorldConfig(n_therapists=40, n_intakes=300, seed=5))
    b = generate_world(WorldConfig(n_therapists=40, n_intakes=300, seed=5))
    pd.testing.assert_frame_equal(a.dataset.interactions, b.dataset.interactions)
    pd.testing.assert_frame_equal(a.dataset.therapists, b.dataset.therapists)


def test_written_world_passes_the_contract(tmp_path: Path) -> None:
    w = generate_world(WorldConfig(n_therapists=40, n_intakes=300, seed=1))
    w.write(tmp_path / "w")
    loaded = load_dataset(tmp_path / "w")
    assert loaded.summary() == w.dataset.summary()
    truth = WorldTruth.load(tmp_path / "w")
    assert truth.holdout_intake_ids == w.truth.holdout_intake_ids


def _chosen(world) -> pd.DataFrame:
    x = world.dataset.interactions
    return x[x["chosen"].astype(bool)]


def test_marginal_rates_match_the_literature(world) -> None:
    chosen = _chosen(world)
    dropout = chosen["dropped_out"].astype(float).mean()
    improved = chosen["reliable_improvement"].astype(float).mean()
    r = np.corrcoef(chosen["alliance"].astype(float), chosen["reliable_improvement"].astype(float))
    assert 0.15 <= dropout <= 0.25  # Swift & Greenberg 2012: ≈ 20%
    assert 0.40 <= improved <= 0.50  # Delgadillo et al.: 40–50%
    assert 0.18 <= r[0, 1] <= 0.38  # Flückiger et al. 2018: r ≈ .28


def test_therapist_share_of_outcome_variance(world) -> None:
    t = world.truth.therapist_traits
    therapist_var = np.var(t["u"]) + np.mean(
        t[[c for c in t.columns if c.startswith("v_")]].var(axis=1)
    )
    share = therapist_var / (therapist_var + np.pi**2 / 3 + np.var(world.truth.intake_traits["w"]))
    assert 0.02 <= share <= 0.10  # Wampold & Brown 2005: ≈ 5% (0.2–29%)
    assert 0.03 <= t["poor"].mean() <= 0.07  # Kraus et al. 2011: 4–5%


def test_preference_accommodation_lowers_dropout(world) -> None:
    ds = world.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    batch, pairs = logged_pairs(ds, pool)
    _, _, terms = world.truth.logits(batch, pool, pairs)
    chosen = ds.interactions["chosen"].astype(bool).to_numpy()
    met = terms.pref_met[chosen] >= 0.99
    unmet = terms.pref_met[chosen] <= 0.01
    dropped = ds.interactions["dropped_out"].astype("boolean").to_numpy()[chosen].astype(float)
    odds = lambda p: p / (1 - p)  # noqa: E731
    ratio = odds(dropped[unmet].mean()) / odds(dropped[met].mean())
    assert 1.3 <= ratio <= 2.6  # Swift et al. 2018: OR ≈ 1.8


def test_lists_obey_safety_and_eligibility(world) -> None:
    ds = world.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    batch, pairs = logged_pairs(ds, pool)
    elig = filter_pairs(batch, pool, pairs)
    assert len(elig.pairs) == len(pairs)  # every shown therapist was eligible
    intakes = ds.intakes.set_index("intake_id")
    crisis = intakes.index[intakes["crisis_now"].astype(bool) | (intakes["phq9_item9"] >= 2)]
    assert not ds.interactions["intake_id"].isin(crisis).any()
    watch = intakes.index[intakes["phq9_item9"] == 1]
    shown = ds.interactions[ds.interactions["intake_id"].isin(watch)]
    trained = set(ds.therapists.loc[ds.therapists["crisis_trained"].astype(bool), "therapist_id"])
    assert len(shown) > 0 and shown["therapist_id"].isin(trained).all()


def test_truth_is_a_probability_and_profile_oracle_hides_therapists(world) -> None:
    ds = world.dataset
    x = ds.interactions.head(500)
    full = world.truth.p_good(ds.intakes, ds.therapists, x["intake_id"], x["therapist_id"])
    prof = world.truth.p_good(
        ds.intakes, ds.therapists, x["intake_id"], x["therapist_id"], profile_only=True
    )
    assert ((full > 0) & (full < 1)).all() and ((prof > 0) & (prof < 1)).all()
    assert not np.allclose(full, prof)
