"""How the logged history came about: the platform's old ranking and its clients' choices.

The logging policy ranks each intake's eligible therapists by a noisy profile heuristic (explores
uniformly for a share ε of intakes) and shows the top 5–10. Clients examine position k with
probability k^−decay, are attracted by what they can see (fit, preferences, appeal; never track
records) and book at most one therapist; some book nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from features.encoding import IntakeBatch, Pairs, TherapistPool
from matcher.ranking import rank_within_groups
from synth.candidates import candidate_blocks
from synth.coefficients import LOGIT_PER_D, sigmoid, solve_level
from synth.config import WorldConfig
from synth.outcomes import PairTerms, pair_terms
from synth.propensities import DRAWS, length_survival, logging_propensities
from synth.traits import IntakeTraits

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Rng = np.random.Generator

PREFERENCE_CHOICE = 1.0
"""Attractiveness lost when stated preferences go unmet (logit)."""
SPECIALTY_CHOICE = 1.0
EXPERIENCE_CHOICE = 0.4
LANGUAGE_CHOICE = 0.5
FEE_CHOICE = 0.6
ENGAGEMENT_CHOICE = 0.3
REPLAY_STREAM = 8191
"""Extra seed word of the generator that replays the policy's noise for its propensities."""
HEURISTIC_POLICY = "synth-heuristic"
EXPLORE_POLICY = "explore"


def policy_score(terms: PairTerms) -> F64:
    """The old platform's heuristic, before noise: 1.2·concern_fit + 0.8·accommodated·[stated]
    + 0.6·[wants same ∧ same] + 0.5·overlap + 0.3·experience + 0.3·shared_language − 0.4·load."""
    return (
        1.2 * terms.concern_fit
        + 0.8 * terms.accommodated * terms.stated
        + 0.6 * (terms.wants_same & terms.same_ethnicity)
        + 0.5 * terms.overlap
        + 0.3 * terms.experience
        + 0.3 * terms.shared_language
        - 0.4 * terms.load
    )


@dataclass(frozen=True)
class ShownLists:
    """The rows of ``terms`` that were shown, and where."""

    rows: I64
    """Row of each shown pair in the candidate terms."""
    position: I64
    """1-based rank on the list."""
    propensity: F64
    """True μ(t, k | x): P(the policy shows this therapist at this position)."""
    shown_propensity: F64
    """True P(the policy shows this therapist anywhere on the list)."""
    explored: B
    """The list came from the uniform exploration arm."""


def shown_lists(
    config: WorldConfig, rng: Rng, terms: PairTerms, *, replay: Rng | None = None
) -> ShownLists:
    """Rank each intake's candidates (``terms``, sorted by intake) by the noisy heuristic, or
    uniformly at random for explored intakes, and keep the first L ~ Uniform{list_min..list_max}
    (fewer if fewer are eligible). ``replay`` drives the Monte Carlo of the true propensities
    (:mod:`synth.propensities`); it never touches ``rng``, so the lists do not depend on it."""
    intake = terms.pairs.intake_idx
    group = np.cumsum(np.r_[True, intake[1:] != intake[:-1]]) - 1 if len(intake) else intake
    n_groups = int(group[-1]) + 1 if len(group) else 0
    base = policy_score(terms)
    noisy = base + config.policy_noise * rng.normal(0, 1, len(terms))
    explore = rng.random(n_groups) < config.exploration
    score = np.where(explore[group], rng.random(len(terms)), noisy)
    length = rng.integers(config.list_min, config.list_max + 1, n_groups)
    rank = rank_within_groups(group, score)
    rows = np.flatnonzero(rank < length[group])
    rows = rows[np.lexsort((rank[rows], group[rows]))]
    mu = logging_propensities(
        group,
        base,
        noise=config.policy_noise,
        exploration=config.exploration,
        list_min=config.list_min,
        list_max=config.list_max,
        rng=replay if replay is not None else np.random.default_rng(config.seed),
    )
    position = rank[rows] + 1
    # a Monte Carlo count of 0 for a realised rank (possible only without exploration)
    floor = 0.5 / DRAWS * length_survival(config.list_min, config.list_max)[position - 1]
    return ShownLists(
        rows=rows.astype(np.int64),
        position=position,
        propensity=np.clip(mu[rows, position - 1], floor, 1.0),
        shown_propensity=np.clip(mu[rows].sum(axis=1), floor, 1.0),
        explored=explore[group[rows]],
    )


@dataclass(frozen=True)
class LoggedLists:
    """Every intake's logged list: the shown pairs' terms (sorted by intake, then position),
    positions, true propensities and which arm produced each list."""

    terms: PairTerms
    position: I64
    propensity: F64
    shown_propensity: F64
    explored: B


def logged_lists(
    config: WorldConfig,
    rng: Rng,
    batch: IntakeBatch,
    pool: TherapistPool,
    clients: IntakeTraits,
) -> LoggedLists:
    """Every intake's logged list. Candidates are scored block by block, so memory stays
    bounded; the propensity replays draw from their own stream (seeded from the config)."""
    replay = np.random.default_rng([config.seed, REPLAY_STREAM])
    parts: list[tuple[PairTerms, ShownLists]] = []
    for pairs in candidate_blocks(batch, pool):
        terms = pair_terms(batch, pool, pairs, clients)
        lists = shown_lists(config, rng, terms, replay=replay)
        parts.append((terms.take(lists.rows), lists))
    if not parts:
        empty = Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
        none = np.zeros(0)
        return LoggedLists(
            pair_terms(batch, pool, empty, clients),
            np.zeros(0, np.int64),
            none,
            none,
            np.zeros(0, dtype=bool),
        )
    blocks = [p[1] for p in parts]
    return LoggedLists(
        PairTerms.concat([p[0] for p in parts]),
        np.concatenate([x.position for x in blocks]),
        np.concatenate([x.propensity for x in blocks]),
        np.concatenate([x.shown_propensity for x in blocks]),
        np.concatenate([x.explored for x in blocks]),
    )


def attractiveness(terms: PairTerms, appeal: F64, same_ethnicity_choice_d: float) -> F64:
    """Booking logit before the intercept: what a client sees and likes.

    appeal_t + 1.0·concern_fit − 1.0·[stated]·(1 − accommodated)
    − (d_choice·π/√3)·[wants same]·(1 − same) + 0.4·experience + 0.5·shared_language
    − 0.6·fee_ratio + 0.3·engagement.
    """
    unmet = terms.stated * (1 - terms.accommodated)
    return (
        appeal
        + SPECIALTY_CHOICE * terms.concern_fit
        - PREFERENCE_CHOICE * unmet
        - same_ethnicity_choice_d * LOGIT_PER_D * (terms.wants_same & ~terms.same_ethnicity)
        + EXPERIENCE_CHOICE * terms.experience
        + LANGUAGE_CHOICE * terms.shared_language
        - FEE_CHOICE * np.minimum(terms.fee_ratio, 2.0)
        + ENGAGEMENT_CHOICE * terms.engagement
    )


def _no_choice_probability(
    group: I64, examine: F64, attract_logit: F64, level: float, n: int
) -> F64:
    """P(book nobody) per intake = Π_k (1 − e_k·σ(a_k + level))."""
    p = examine * sigmoid(attract_logit + level)
    log_none = np.bincount(group, weights=np.log1p(-np.minimum(p, 1 - 1e-12)), minlength=n)
    return np.exp(log_none)


def choice_level(
    config: WorldConfig,
    *,
    group: I64,
    position: I64,
    attract_logit: F64,
    n_intakes: int,
) -> float:
    """The booking intercept that makes the mean P(nobody) over the logged lists equal
    ``no_choice_rate`` (the same lists always give the same level)."""
    examine = position.astype(np.float64) ** -config.position_decay
    listed = np.bincount(group, minlength=n_intakes) > 0

    def booking_rate(level: float) -> float:
        none = _no_choice_probability(group, examine, attract_logit, level, n_intakes)
        return float(1 - none[listed].mean())

    return solve_level(booking_rate, 1 - config.no_choice_rate)


@dataclass(frozen=True)
class Choices:
    """Which shown rows were booked, and the booking intercept that gave the target no-choice
    rate."""

    chosen: B
    level: float


def choose(
    config: WorldConfig,
    rng: Rng,
    *,
    group: I64,
    position: I64,
    attract_logit: F64,
    n_intakes: int,
) -> Choices:
    """Position-biased single choice per list.

    Each shown therapist is examined with probability position^−decay and, if examined, appeals
    with probability σ(a + level); the client books the appealing one with the largest a + Gumbel
    noise, or nobody. ``level`` is solved so the mean P(nobody) over lists is ``no_choice_rate``.
    """
    examine = position.astype(np.float64) ** -config.position_decay
    listed = np.bincount(group, minlength=n_intakes) > 0
    if not listed.any():
        return Choices(np.zeros(len(group), dtype=bool), 0.0)
    level = choice_level(
        config, group=group, position=position, attract_logit=attract_logit, n_intakes=n_intakes
    )
    p = examine * sigmoid(attract_logit + level)
    candidate = rng.random(len(group)) < p
    key = np.where(candidate, attract_logit + rng.gumbel(size=len(group)), -np.inf)
    best = np.full(n_intakes, -np.inf)
    np.maximum.at(best, group, key)
    chosen = candidate & (key == best[group])
    # ties are measure-zero; keep the first row per intake if they ever happen
    first = np.zeros(len(group), dtype=bool)
    idx = np.flatnonzero(chosen)
    _, keep = np.unique(group[idx], return_index=True)
    first[idx[keep]] = True
    return Choices(first, level)


__all__ = [
    "EXPLORE_POLICY",
    "HEURISTIC_POLICY",
    "Choices",
    "LoggedLists",
    "ShownLists",
    "attractiveness",
    "choice_level",
    "choose",
    "logged_lists",
    "policy_score",
    "shown_lists",
]
