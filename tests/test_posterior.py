"""The empirical-Bayes oracle (synth.posterior): exact course likelihoods, the prior kept where
there is no history, deterministic draws, and a ceiling between the profile-only and true oracles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from core.ranking import random_topk_mean, topk_mean, uplift_captured
from features.dataset import Dataset
from features.encoding import TherapistPool
from synth import SyntheticWorld, WorldConfig, generate_world
from synth.candidates import candidate_pairs
from synth.coefficients import DROPOUT_IMPROVEMENT_SHIFT
from synth.posterior import (
    ETA_GRID,
    Posterior,
    course_log_likelihood,
    fit_posterior,
    posterior_p_good,
    systematic_resample,
)
from training.splits import subset, time_split

SAMPLES, DRAWS = 400, 64
RATINGS = np.round(np.arange(1.0, 5.0 + 1e-9, 0.1), 1)
"""Every rating a course can log (WAI-SR to one decimal, clipped to [1, 5])."""


@dataclass(frozen=True)
class Split:
    world: SyntheticWorld
    train: Dataset
    valid: Dataset
    pool: TherapistPool


@pytest.fixture(scope="module")
def split() -> Split:
    """One region, so each held-out intake has several eligible therapists (~1.5 s)."""
    world = generate_world(WorldConfig(n_therapists=40, n_intakes=2000, seed=0, n_regions=1))
    train_ids, valid_ids = time_split(world.dataset, 0.2)
    pool = TherapistPool.from_frame(world.dataset.therapists)
    return Split(world, subset(world.dataset, train_ids), subset(world.dataset, valid_ids), pool)


def _fit(split: Split, history: Dataset | None = None, **kwargs: object) -> Posterior:
    options: dict[str, object] = {"samples": SAMPLES, "draws": DRAWS, "chunk": 16} | kwargs
    return fit_posterior(
        split.world.truth,
        history if history is not None else split.train,
        split.pool,
        **options,  # type: ignore[arg-type]
    )


def _assert_same(a: Posterior, b: Posterior) -> None:
    np.testing.assert_array_equal(a.ess, b.ess)
    for name in ("general", "skill", "warmth", "retention"):
        np.testing.assert_array_equal(getattr(a.draws, name), getattr(b.draws, name))


@settings(max_examples=25, deadline=None)
@given(
    observed=st.lists(
        st.tuples(st.sampled_from([0.0, 1.0, np.nan]), st.sampled_from([np.nan, 1.0, 3.7, 5.0])),
        max_size=6,
    ),
    dropped=st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_an_unobserved_course_contributes_log_likelihood_zero(
    split: Split, observed: list[tuple[float, float]], dropped: list[bool]
) -> None:
    """Neither improvement nor rating logged: factor 1 at every η, whatever the other rows."""
    n_blank = len(dropped)
    improved = np.array([o[0] for o in observed] + [np.nan] * n_blank)
    alliance = np.array([o[1] for o in observed] + [np.nan] * n_blank)
    flags = np.array([i % 2 == 0 for i in range(len(observed))] + dropped)
    ll = course_log_likelihood(improved, alliance, flags, split.world.truth)
    assert ll.shape == (len(improved), len(ETA_GRID))
    np.testing.assert_array_equal(ll[len(observed) :], 0.0)
    assert np.isfinite(ll).all()


@pytest.mark.parametrize("dropped", [False, True])
@pytest.mark.parametrize("improved", [0.0, 1.0])
def test_improvement_alone_has_the_logistic_likelihood(
    split: Split, dropped: bool, improved: float
) -> None:
    """Unrated: P(improved | η) = σ(η − thr), thr = 1.5 for a dropout and 0 otherwise."""
    ll = course_log_likelihood(
        np.array([improved]), np.array([np.nan]), np.array([dropped]), split.world.truth
    )[0]
    threshold = DROPOUT_IMPROVEMENT_SHIFT if dropped else 0.0
    p = expit(ETA_GRID - threshold)
    np.testing.assert_allclose(np.exp(ll), p if improved else 1 - p, atol=0.01)


@settings(max_examples=12, deadline=None)
@given(improved=st.sampled_from([0.0, 1.0, np.nan]), dropped=st.booleans())
def test_the_possible_ratings_partition_the_rating_free_likelihood(
    split: Split, improved: float, dropped: bool
) -> None:
    """Σ_A P(improved, A | η) = P(improved | η): the rating factor is a proper distribution over
    the ratings a course can log (clipped ends included)."""
    truth = split.world.truth
    n = len(RATINGS)
    rated = course_log_likelihood(np.full(n, improved), RATINGS, np.full(n, dropped), truth)
    unrated = course_log_likelihood(
        np.array([improved]), np.array([np.nan]), np.array([dropped]), truth
    )[0]
    np.testing.assert_allclose(np.exp(rated).sum(axis=0), np.exp(unrated), atol=1e-6)


def test_a_therapist_without_history_keeps_the_prior(split: Split) -> None:
    """No logged course: uniform weights (ESS = samples) and distinct prior draws; pooled over
    therapists, the draws have the prior's mean and SD. Those with courses have ESS < samples."""
    inter = split.train.interactions
    ids = split.pool.ids.astype(str)
    silent = set(ids[::3])  # spread over several chunks of 16
    kept = inter[~inter["therapist_id"].astype(str).isin(silent)].reset_index(drop=True)
    history = Dataset(split.train.therapists, split.train.intakes, kept)
    post = _fit(split, history)
    none = np.isin(ids, list(silent))
    np.testing.assert_allclose(post.ess[none], SAMPLES, rtol=1e-9)
    active = split.pool.positions(kept["therapist_id"].astype(str).unique().tolist())
    assert len(active) > 10
    assert (post.ess[active] < SAMPLES * 0.99).all()
    general = post.draws.general[none]
    assert all(len(np.unique(row)) == DRAWS for row in general)
    sd = split.world.truth.coefficients.general_sd
    assert abs(general.mean()) < 4 * sd / np.sqrt(general.size)
    assert general.std() == pytest.approx(sd, rel=0.1)


def test_fit_posterior_is_deterministic_per_seed(split: Split) -> None:
    _assert_same(_fit(split, seed=3), _fit(split, seed=3))
    other = _fit(split, seed=4)
    assert not np.array_equal(_fit(split, seed=3).draws.general, other.draws.general)


def test_alliance_false_ignores_the_ratings(split: Split) -> None:
    """Without alliance the posterior is the one of the same history with every rating blank;
    with alliance the ratings move it."""
    inter = split.train.interactions
    blank = inter.assign(alliance=pd.array([pd.NA] * len(inter), dtype="Float64"))
    unrated = Dataset(split.train.therapists, split.train.intakes, blank)
    without = _fit(split, alliance=False)
    _assert_same(without, _fit(split, unrated))
    assert not np.allclose(without.ess, _fit(split).ess)


log_weights = st.integers(1, 4).flatmap(
    lambda t: st.integers(1, 30).flatmap(
        lambda s: st.lists(
            st.lists(
                st.one_of(st.floats(-30.0, 5.0), st.just(-np.inf)), min_size=s, max_size=s
            ).filter(lambda row: any(np.isfinite(row))),
            min_size=t,
            max_size=t,
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(log_w=log_weights, draws=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_systematic_resampling_returns_valid_indices(
    log_w: list[list[float]], draws: int, seed: int
) -> None:
    """Indices in range, zero weights never drawn, sample i drawn ⌊M·w_i⌋ or ⌈M·w_i⌉ times."""
    lw = np.array(log_w)
    idx = systematic_resample(lw, draws, np.random.default_rng(seed))
    assert idx.shape == (len(lw), draws)
    assert ((idx >= 0) & (idx < lw.shape[1])).all()
    w = np.exp(lw - lw.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    for row, weights in zip(idx, w, strict=True):
        counts = np.bincount(row, minlength=len(weights))
        assert (counts[weights == 0] == 0).all()
        expected = draws * weights
        assert (counts >= np.floor(expected - 1e-6)).all()
        assert (counts <= np.ceil(expected + 1e-6)).all()


def test_the_posterior_learns_the_general_effect(split: Split) -> None:
    """Posterior means of u_t are closer to the truth than the prior mean (0) is."""
    post = _fit(split)
    true = split.world.truth.therapists_of(split.pool).general
    mean = post.draws.general.mean(axis=1)
    assert np.mean((mean - true) ** 2) < 0.8 * np.mean(true**2)
    assert np.corrcoef(mean, true)[0, 1] > 0.3


def test_eb_oracle_sits_between_profile_only_and_true_oracle(split: Split) -> None:
    """Uplift@5 on the held-out intakes: profile-only oracle < EB oracle ≤ true oracle."""
    truth, pool = split.world.truth, split.pool
    batch = pool.encode_intakes(split.valid.intakes)
    pairs = candidate_pairs(batch, pool)
    group = pairs.intake_idx
    assert np.bincount(group).max() > 5
    eb = posterior_p_good(truth, _fit(split, samples=1000), batch, pool, pairs)
    p_true = truth.logits(batch, pool, pairs).p_good
    p_profile = truth.logits(batch, pool, pairs, profile_only=True).p_good
    u_random = random_topk_mean(group, p_true)
    u_oracle = topk_mean(group, p_true, p_true, 5)

    def uplift(score: np.ndarray) -> float:
        return uplift_captured(topk_mean(group, score, p_true, 5), u_random, u_oracle)

    assert uplift(p_profile) + 0.1 < uplift(eb) <= uplift(p_true) + 1e-12
    assert uplift(p_true) == pytest.approx(1.0)
