"""The Bayes-optimal ranker of a world's logged history: the ceiling of learning from track records.

The empirical-Bayes oracle knows everything about the world except the therapists' hidden traits:
the true outcome model and coefficients (:mod:`synth.outcomes`), every client's hidden traits (as
the profile-only oracle does) and the true prior of the therapist traits

  u_t ~ N(0, σ_u²),  v_td ~ N(0, σ_v²) + poor_effect·[d = poor_t],  e_tf ~ N(0, σ_e²),
  r_t ~ N(0, σ_r²),  poor_t = a uniform advertised domain with probability ``poor_share``.

It learns the traits only from the logged outcomes it is given (the training split), exactly as
a model must, and ranks each pair by the posterior mean

  E[P(good) | history] = E[(1 − σ(δ))·(1 − early_end)·σ(η) | history],

the Bayes-optimal score for the mean true benefit of a top k. The likelihood of one logged
course is exact: P(dropped | δ)·P(improved, alliance | η, dropped), where the second factor
integrates the latent improvement ℓ = η + Logistic(0, 1) over the rounded, clipped alliance
rating's Gaussian noise (:func:`synth.outcomes.draw_outcomes`). The posterior is computed by
importance sampling from the prior (``samples`` per therapist, weights = likelihood of the
therapist's history), then ``draws`` posterior draws are resampled per therapist.

No model of observable data can beat it on uplift in expectation: whatever a model gains over it
would have to come from hidden client traits, which it already knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, log_expit, ndtr

from features.dataset import Dataset
from features.encoding import CONCERN_DOMAIN_CODE, IntakeBatch, Pairs, TherapistPool
from features.outcomes import has_outcome
from synth import outcomes
from synth.coefficients import ALLIANCE_DROPOUT, ALLIANCE_MEAN, DROPOUT_IMPROVEMENT_SHIFT
from synth.outcomes import PairTerms
from synth.traits import DOMAINS, FORMATS
from synth.truth import WorldTruth

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
ETA_GRID = np.linspace(-12.0, 12.0, 481)
"""Improvement logits at which each course's likelihood is tabulated (then interpolated)."""
LATENT_STEP = 0.05
LATENT_GRID = np.arange(-30.0, 30.0 + LATENT_STEP, LATENT_STEP)
"""Latent improvement values ℓ over which the alliance likelihood is integrated."""
ALLIANCE_ROUNDING = 0.05
"""Half the resolution of a logged rating (WAI-SR is recorded to one decimal)."""


@dataclass(frozen=True)
class History:
    """Logged courses (rows with a known outcome) as the oracle reads them."""

    therapist: I64
    """Pool row of each course's therapist."""
    client_eta: F64
    """b_η + client part of η (hidden client traits included)."""
    client_delta: F64
    domain_weight: F64
    """``(R, domains)`` π_d·(1 + g·sev): how much of v_td reaches this course's η."""
    format_used: I64
    dropped: npt.NDArray[np.bool_]
    log_lik_eta: F64
    """``(R, len(ETA_GRID))`` log P(improved, alliance | η, dropped) (0 where not observed)."""


def domain_weights(terms: PairTerms, gain: float) -> F64:
    """``(P, domains)`` π_d·(1 + g·sev_i), π_d the weight of domain d among the concerns."""
    n, d = len(terms), len(DOMAINS)
    shares = np.zeros((n, d))
    rows = np.repeat(np.arange(n), terms.domains.shape[1])
    np.add.at(shares, (rows, terms.domains.ravel()), terms.domain_weights.ravel())
    return shares * (1 + gain * terms.severity)[:, None]


def course_log_likelihood(
    improved: F64, alliance: F64, dropped: npt.NDArray[np.bool_], truth: WorldTruth
) -> F64:
    """log P(improved, alliance | η, dropped) of each course on :data:`ETA_GRID`.

    P = ∫ f(ℓ − η)·[ℓ ≷ thr]·P(A | ℓ) dℓ, f the logistic density, thr = 1.5 for dropouts (else 0),
    P(A | ℓ) = Φ((A + 0.05 − μ)/s) − Φ((A − 0.05 − μ)/s), μ = 3.9 + slope·(ℓ − b_η) − 0.3·dropped,
    s the alliance noise, with the clipped ends (A = 1, A = 5) open-ended. NaN improved or
    alliance means not observed (factor 1).
    """
    c = truth.coefficients
    n = len(improved)
    if n == 0:
        return np.zeros((0, len(ETA_GRID)))
    threshold = np.where(dropped, DROPOUT_IMPROVEMENT_SHIFT, 0.0)
    latent = LATENT_GRID[None, :]
    h = np.ones((n, len(LATENT_GRID)))
    seen = ~np.isnan(improved)
    above = latent > threshold[:, None]
    h = np.where(seen[:, None] & (improved[:, None] > 0.5) & ~above, 0.0, h)
    h = np.where(seen[:, None] & (improved[:, None] <= 0.5) & above, 0.0, h)
    rated = ~np.isnan(alliance)
    if rated.any():
        a = alliance[rated][:, None]
        mu = (
            ALLIANCE_MEAN
            + c.alliance_slope * (latent - c.improvement_intercept)
            + ALLIANCE_DROPOUT * dropped[rated][:, None]
        )
        s = c.alliance_noise
        upper = np.where(a >= 5.0 - 1e-9, 1.0, ndtr((a + ALLIANCE_ROUNDING - mu) / s))
        lower = np.where(a <= 1.0 + 1e-9, 0.0, ndtr((a - ALLIANCE_ROUNDING - mu) / s))
        h[rated] *= np.maximum(upper - lower, 1e-300)
    z = LATENT_GRID[None, :] - ETA_GRID[:, None]
    density = np.exp(log_expit(z) + log_expit(-z)) * LATENT_STEP
    lik = h @ density.T
    # A fully unobserved course has likelihood 1 (the grid sums the density to ≈ 1).
    lik = np.where((seen | rated)[:, None], lik, 1.0)
    return np.log(np.maximum(lik, 1e-300))


def history_of(truth: WorldTruth, history: Dataset, pool: TherapistPool) -> History:
    """The logged courses of ``history`` with their exact likelihood tables."""
    inter = history.interactions[has_outcome(history.interactions)]
    batch = pool.encode_intakes(history.intakes)
    pairs = Pairs.of_interactions(inter, batch, pool)
    terms = truth.terms(batch, pool, pairs)
    c = truth.coefficients
    client_eta, client_delta = outcomes.client_logits(terms, c)

    def numbers(column: str) -> F64:
        return np.asarray(
            pd.to_numeric(inter[column].astype("Float64")).to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        )

    dropped = numbers("dropped_out") > 0.5
    improved = numbers("reliable_improvement")
    alliance = numbers("alliance")
    return History(
        therapist=pairs.therapist_idx,
        client_eta=c.improvement_intercept + client_eta,
        client_delta=c.dropout_intercept + client_delta,
        domain_weight=domain_weights(terms, c.severity_skill_gain),
        format_used=terms.format_used,
        dropped=dropped,
        log_lik_eta=course_log_likelihood(improved, alliance, dropped, truth),
    )


@dataclass(frozen=True)
class TraitDraws:
    """Draws of therapist traits, ``(T, S)`` per scalar trait, ``(T, S, K)`` per vector."""

    general: F64
    skill: F64
    warmth: F64
    retention: F64


def prior_draws(
    truth: WorldTruth, pool: TherapistPool, rows: I64, samples: int, rng: np.random.Generator
) -> TraitDraws:
    """``samples`` draws of the traits of pool ``rows`` from the world's true prior
    (:func:`synth.traits.draw_therapist_units` scaled as :func:`synth.traits.scale_therapists`)."""
    c, config = truth.coefficients, truth.config
    t = len(rows)
    spec_bits = (
        pool.specialties[rows][:, None] >> np.arange(len(CONCERN_DOMAIN_CODE), dtype=np.uint64)
    ) & 1
    offers = (spec_bits.astype(np.float64) @ np.eye(len(DOMAINS))[CONCERN_DOMAIN_CODE]) > 0
    offers = np.where(offers.any(axis=1, keepdims=True), offers, True)
    skill = rng.normal(0, c.domain_sd, (t, samples, len(DOMAINS)))
    poor = rng.random((t, samples)) < config.poor_share
    pick = np.log(offers.astype(np.float64) + 1e-300)[:, None, :] + rng.gumbel(size=skill.shape)
    chosen = np.argmax(pick, axis=2)
    ti, si = np.nonzero(poor)
    skill[ti, si, chosen[ti, si]] += c.poor_effect
    return TraitDraws(
        general=rng.normal(0, c.general_sd, (t, samples)),
        skill=skill,
        warmth=rng.normal(0, c.format_sd, (t, samples, len(FORMATS))),
        retention=rng.normal(0, config.retention_sd, (t, samples)),
    )


def _interp_rows(table: F64, rows: I64, eta: F64) -> F64:
    """Linear interpolation of ``table[rows]`` (on :data:`ETA_GRID`) at ``eta`` (``(R, S)``)."""
    step = ETA_GRID[1] - ETA_GRID[0]
    pos = np.clip((eta - ETA_GRID[0]) / step, 0, len(ETA_GRID) - 1 - 1e-9)
    k = pos.astype(np.int64)
    frac = pos - k
    r = rows[:, None]
    return table[r, k] * (1 - frac) + table[r, k + 1] * frac


def therapist_logits(
    draws: TraitDraws,
    local: I64,
    *,
    client_eta: F64,
    client_delta: F64,
    weight: F64,
    fmt: I64,
    general_retention: float,
) -> tuple[F64, F64]:
    """``(R, S)`` η and δ of courses (therapist ``local`` rows of ``draws``) under each draw."""
    eta = client_eta[:, None] + draws.general[local] + draws.warmth[local, :, fmt]
    for d in np.flatnonzero(weight.any(axis=0)):
        eta += draws.skill[local, :, d] * weight[:, d : d + 1]
    delta = (
        client_delta[:, None] - general_retention * draws.general[local] + draws.retention[local]
    )
    return eta, delta


def systematic_resample(log_w: F64, draws: int, rng: np.random.Generator) -> I64:
    """Systematic resampling: ``(T, draws)`` sample indices per row of log weights ``(T, S)``.

    One uniform U per row, draws at u_j = (U + j)/M, j < M, each taking the first sample whose
    cumulative normalised weight reaches u_j: sample i is drawn ⌊M·w_i⌋ or ⌈M·w_i⌉ times.
    """
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    u = (rng.random((len(w), 1)) + np.arange(draws)[None, :]) / draws
    # One search over all therapists: row t's cumulative weights shifted into [t, t + 1].
    offset = np.arange(len(w))[:, None]
    flat = np.searchsorted((cdf + offset).ravel(), (u + offset).ravel())
    idx = flat.reshape(len(w), draws) - offset * log_w.shape[1]
    return np.clip(idx, 0, log_w.shape[1] - 1).astype(np.int64)


@dataclass(frozen=True)
class Posterior:
    """Posterior draws of every pool therapist's traits, and what the history told about them."""

    draws: TraitDraws
    """``(T, M, ...)`` posterior draws, pool row order."""
    ess: F64
    """Effective sample size of each therapist's importance weights (``samples`` if no data)."""


def fit_posterior(
    truth: WorldTruth,
    history: Dataset,
    pool: TherapistPool,
    *,
    samples: int = 2000,
    draws: int = 128,
    seed: int = 0,
    alliance: bool = True,
    chunk: int = 40,
) -> Posterior:
    """Posterior draws of each therapist's hidden traits given ``history``'s logged courses (see
    the module docstring); with ``alliance=False`` the ratings are ignored."""
    rng = np.random.default_rng(seed)
    h = history_of(truth, history, pool)
    if not alliance:
        inter = history.interactions[has_outcome(history.interactions)]
        improved = pd.to_numeric(inter["reliable_improvement"].astype("Float64")).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        none = np.full(len(improved), np.nan)
        h = History(
            **{**h.__dict__, "log_lik_eta": course_log_likelihood(improved, none, h.dropped, truth)}
        )
    order = np.argsort(h.therapist, kind="stable")
    t_sorted = h.therapist[order]
    n = len(pool)
    parts: list[TraitDraws] = []
    ess = np.empty(n)
    kappa = truth.coefficients.general_retention
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        prior = prior_draws(truth, pool, rows, samples, rng)
        lo, hi = np.searchsorted(t_sorted, [rows[0], rows[-1] + 1])
        sel = order[lo:hi]
        local = h.therapist[sel] - start
        log_w = np.zeros((len(rows), samples))
        if len(sel):
            eta, delta = therapist_logits(
                prior,
                local,
                client_eta=h.client_eta[sel],
                client_delta=h.client_delta[sel],
                weight=h.domain_weight[sel],
                fmt=h.format_used[sel],
                general_retention=kappa,
            )
            ll = _interp_rows(h.log_lik_eta, sel, eta)
            d = h.dropped[sel][:, None]
            ll = ll + np.where(d, log_expit(delta), log_expit(-delta))
            np.add.at(log_w, local, ll)
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        ess[rows] = w.sum(axis=1) ** 2 / (w**2).sum(axis=1)
        idx = systematic_resample(log_w, draws, rng)
        ti = np.arange(len(rows))[:, None]
        parts.append(
            TraitDraws(
                general=prior.general[ti, idx],
                skill=prior.skill[ti, idx],
                warmth=prior.warmth[ti, idx],
                retention=prior.retention[ti, idx],
            )
        )
    return Posterior(
        TraitDraws(
            general=np.concatenate([p.general for p in parts]),
            skill=np.concatenate([p.skill for p in parts]),
            warmth=np.concatenate([p.warmth for p in parts]),
            retention=np.concatenate([p.retention for p in parts]),
        ),
        ess,
    )


def posterior_p_good(
    truth: WorldTruth,
    posterior: Posterior,
    batch: IntakeBatch,
    pool: TherapistPool,
    pairs: Pairs,
    *,
    chunk: int = 20000,
) -> F64:
    """E[P(good) | history] of each pair (the empirical-Bayes oracle's score)."""
    terms = truth.terms(batch, pool, pairs)
    c = truth.coefficients
    client_eta, client_delta = outcomes.client_logits(terms, c)
    client_eta = client_eta + c.improvement_intercept
    client_delta = client_delta + c.dropout_intercept
    weight = domain_weights(terms, c.severity_skill_gain)
    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), chunk):
        s = slice(lo, lo + chunk)
        eta, delta = therapist_logits(
            posterior.draws,
            pairs.therapist_idx[s],
            client_eta=client_eta[s],
            client_delta=client_delta[s],
            weight=weight[s],
            fmt=terms.format_used[s],
            general_retention=c.general_retention,
        )
        p = (1 - expit(delta)) * (1 - c.early_end_rate) * expit(eta)
        out[s] = p.mean(axis=1)
    return out


__all__ = [
    "History",
    "Posterior",
    "TraitDraws",
    "course_log_likelihood",
    "domain_weights",
    "fit_posterior",
    "history_of",
    "posterior_p_good",
    "prior_draws",
    "systematic_resample",
]
