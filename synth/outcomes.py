"""The hidden outcome model: what happens when client i starts therapy with therapist t.

Two logits per pair (u, v, r hidden therapist traits; w, m, sev hidden client traits):

  η (reliable improvement) = b_η + w_i + u_t + skill_it·(1 + g·sev_i) + e_{t, format_it}
        + β_spec·concern_fit·breadth_t·(0.6 + 0.8·sev_i) + β_lang·shared_language
        + β_exp·min(years, 10)/10 + β_unstated·[unstated concern ∈ specialties]
        − β_pref·[stated]·(1 − accommodated) − β_eth·[wants same]·(1 − same ethnicity)
  δ (dropout) = b_δ − m_i − κ·u_t + r_t + γ_pref·[stated]·(1 − accommodated)
        + γ_video·[video] + γ_lbv·[video ∧ low bandwidth] − γ_avail·min(shared hours, 6)/6
        + γ_load·load_t² − γ_sip·[severe ∧ in person] − β_lang/2·shared_language + γ_sev·sev_i

with skill_it = Σ_k ω_k·v_{t, domain(concern_k)}, ω_k ∝ 1/k over the client's concerns. The format
used is the client's favourite among the formats both accept; on average it changes attrition,
never η (Lin et al. 2022), but each therapist has a small zero-mean warmth e_tf per format
(digital empathy, :class:`~synth.traits.TherapistTraits`), which reaches the alliance rating
through the latent improvement. Then

  P(good outcome) = (1 − σ(δ))·(1 − early_end)·σ(η)

(retained to ≥ 4 sessions, not dropped out, reliably improved).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import CONCERN_DOMAIN_CODE, MAX_CONCERNS, IntakeBatch, Pairs, TherapistPool
from features.vocab import Ethnicity, Format
from synth.coefficients import (
    ALLIANCE_DROPOUT,
    ALLIANCE_MEAN,
    DROPOUT_IMPROVEMENT_SHIFT,
    DROPOUT_SESSIONS_P,
    Coefficients,
    sigmoid,
)
from synth.traits import IntakeTraits, TherapistTraits

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Rng = np.random.Generator

ORDER_WEIGHTS = 1.0 / np.arange(1, MAX_CONCERNS + 1)
VIDEO = list(Format).index(Format.VIDEO)
IN_PERSON_BIT = np.uint64(1 << list(Format).index(Format.IN_PERSON))
UNDISCLOSED = list(Ethnicity).index(Ethnicity.UNDISCLOSED)
SEVERE = 0.7
"""True severity from which a client counts as severe (≈ phq9 ≥ 19 or gad7 ≥ 15)."""
ENGLISH = "en"


@dataclass(frozen=True)
class PairTerms:
    """What the outcome model, the logging policy and the clients' choice read of each pair:
    observable fit plus the client's hidden traits (never the therapist's)."""

    pairs: Pairs
    concern_fit: F64
    """Σ_k ω_k·[concern_k ∈ specialties], ω_k = (1/k)/Σ_j (1/j)."""
    breadth: F64
    """clip(1.4 − 0.1·n_specialties, 0.6, 1.2): long specialty lists mean less depth."""
    domains: I64
    """``(P, 5)`` domain code of each concern slot (0 where empty)."""
    domain_weights: F64
    """``(P, 5)`` ω_k (0 where empty)."""
    severity: F64
    stated: B
    """The client stated a gender, modality or cultural preference."""
    accommodated: F64
    """Mean over stated kinds of: gender preferred, any preferred modality offered, share of
    cultural preferences met (1 where nothing was stated)."""
    wants_same: B
    same_ethnicity: B
    shared_language: B
    """Shares a non-English language the client speaks."""
    experience: F64
    unstated_hit: B
    format_used: I64
    low_bandwidth: B
    overlap: F64
    """min(shared weekly hours, 6) / 6."""
    load: F64
    severe_in_person: B
    fee_ratio: F64
    """Self-pay fee / client's maximum (0 when not self-pay or unknown)."""
    engagement: F64
    prognosis: F64

    def __len__(self) -> int:
        return len(self.pairs)

    def take(self, rows: I64 | B) -> PairTerms:
        """The terms of a subset of pairs (an index array or a mask)."""
        values = {f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name != "pairs"}
        return PairTerms(pairs=self.pairs.take(rows), **values)

    @classmethod
    def concat(cls, parts: list[PairTerms]) -> PairTerms:
        """The terms of several pair sets, one after the other (at least one part)."""
        pairs = Pairs(
            np.concatenate([p.pairs.intake_idx for p in parts]),
            np.concatenate([p.pairs.therapist_idx for p in parts]),
        )
        values = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(cls)
            if f.name != "pairs"
        }
        return cls(pairs=pairs, **values)

    @property
    def video(self) -> B:
        """Sessions would be by video."""
        return self.format_used == VIDEO


def _english_mask(pool: TherapistPool) -> npt.NDArray[np.uint64]:
    english = pool.languages_vocab.index.get(ENGLISH, -1)
    mask = np.zeros(pool.languages.shape[1], dtype=np.uint64)
    if english >= 0:
        mask[english // 64] = np.uint64(1) << np.uint64(english % 64)
    return mask


def _preferences(batch: IntakeBatch, pool: TherapistPool, pairs: Pairs) -> tuple[B, F64]:
    """Whether the client stated any preference, and the share accommodated (see PairTerms)."""
    i, j = pairs.intake_idx, pairs.therapist_idx
    gender_pref, modality_pref, cultural_pref = (
        batch.gender_pref[i],
        batch.modality_pref[i],
        batch.cultural_pref[i],
    )
    g = pool.gender[j]
    gender_met = (g >= 0) & (((gender_pref >> np.maximum(g, 0).astype(np.uint64)) & 1) == 1)
    modality_met = (modality_pref & pool.modalities[j]) != 0
    asked_cultural = np.bitwise_count(cultural_pref).astype(np.float64)
    cultural_met = np.bitwise_count(cultural_pref & pool.cultural[j]) / np.maximum(
        asked_cultural, 1
    )
    kinds = np.stack([gender_pref != 0, modality_pref != 0, cultural_pref != 0], axis=1)
    met = np.stack([gender_met, modality_met, cultural_met], axis=1).astype(np.float64)
    n_kinds = kinds.sum(axis=1)
    accommodated = np.where(n_kinds > 0, (met * kinds).sum(axis=1) / np.maximum(n_kinds, 1), 1.0)
    return n_kinds > 0, accommodated


def _format_used(batch: IntakeBatch, pool: TherapistPool, pairs: Pairs, taste: F64) -> I64:
    """The client's favourite (by hidden taste) among shared formats, else among the therapist's."""
    shared = batch.formats[pairs.intake_idx] & pool.formats[pairs.therapist_idx]
    usable = np.where(shared != 0, shared, pool.formats[pairs.therapist_idx])
    bits = ((usable[:, None] >> np.arange(len(Format), dtype=np.uint64)) & 1) == 1
    return np.argmax(np.where(bits, taste, -np.inf), axis=1).astype(np.int64)


def pair_terms(
    batch: IntakeBatch, pool: TherapistPool, pairs: Pairs, clients: IntakeTraits
) -> PairTerms:
    """The terms of each pair; ``clients`` holds the hidden traits of ``batch``'s rows."""
    i, j = pairs.intake_idx, pairs.therapist_idx
    codes = batch.concerns[i]
    present = codes >= 0
    hits = ((pool.specialties[j][:, None] >> np.maximum(codes, 0).astype(np.uint64)) & 1) == 1
    weights = np.where(present, ORDER_WEIGHTS[None, :], 0.0)
    weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    n_spec = np.bitwise_count(pool.specialties[j]).astype(np.float64)
    stated, accommodated = _preferences(batch, pool, pairs)
    ethnicity = batch.client_ethnicity[i]
    wants_same = batch.same_ethnicity[i] & (ethnicity >= 0) & (ethnicity != UNDISCLOSED)
    client_other = batch.languages[i] & ~_english_mask(pool)[None, :]
    severity = clients.severity[i]
    unstated = clients.unstated_concern[i]
    unstated_hit = (unstated >= 0) & (
        ((pool.specialties[j] >> np.maximum(unstated, 0).astype(np.uint64)) & 1) == 1
    )
    both_in_person = (batch.formats[i] & pool.formats[j] & IN_PERSON_BIT) != 0
    overlap = bitset.overlap(batch.availability[i], pool.availability[j]).astype(np.float64)
    fee, cap = pool.fee[j], batch.max_fee[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(batch.self_pay[i] & (cap > 0), fee / cap, 0.0)
    return PairTerms(
        pairs=pairs,
        concern_fit=(weights * (hits & present)).sum(axis=1),
        breadth=np.clip(1.4 - 0.1 * n_spec, 0.6, 1.2),
        domains=CONCERN_DOMAIN_CODE[np.maximum(codes, 0)],
        domain_weights=weights,
        severity=severity,
        stated=stated,
        accommodated=accommodated,
        wants_same=wants_same,
        same_ethnicity=(ethnicity == pool.ethnicity[j])
        & (ethnicity >= 0)
        & (ethnicity != UNDISCLOSED),
        shared_language=bitset.intersects(client_other, pool.languages[j]),
        experience=np.minimum(np.nan_to_num(pool.years[j].astype(np.float64)), 10) / 10,
        unstated_hit=unstated_hit,
        format_used=_format_used(batch, pool, pairs, clients.format_taste[i]),
        low_bandwidth=batch.low_bandwidth[i],
        overlap=np.minimum(overlap, 6) / 6,
        load=np.clip(pool.load[j].astype(np.float64), 0, 1),
        severe_in_person=(severity >= SEVERE) & both_in_person,
        fee_ratio=np.nan_to_num(ratio),
        engagement=clients.engagement[i],
        prognosis=clients.prognosis[i],
    )


@dataclass(frozen=True)
class Logits:
    """Improvement (η) and dropout (δ) logits, each split into client and therapist parts."""

    client_eta: F64
    therapist_eta: F64
    client_delta: F64
    therapist_delta: F64
    coefficients: Coefficients

    @property
    def eta(self) -> F64:
        """η = b_η + client part + therapist part."""
        return self.coefficients.improvement_intercept + self.client_eta + self.therapist_eta

    @property
    def delta(self) -> F64:
        """δ = b_δ + client part + therapist part."""
        return self.coefficients.dropout_intercept + self.client_delta + self.therapist_delta

    @property
    def p_dropout(self) -> F64:
        """σ(δ)."""
        return sigmoid(self.delta)

    @property
    def p_good(self) -> F64:
        """(1 − σ(δ))·(1 − early_end)·σ(η)."""
        return (
            (1 - sigmoid(self.delta)) * (1 - self.coefficients.early_end_rate) * sigmoid(self.eta)
        )


def client_logits(terms: PairTerms, c: Coefficients) -> tuple[F64, F64]:
    """The parts of η and δ that do not depend on hidden therapist traits (no intercepts)."""
    unmet = terms.stated * (1 - terms.accommodated)
    eta = (
        terms.prognosis
        + c.specialty * terms.concern_fit * terms.breadth * (0.6 + 0.8 * terms.severity)
        + c.language * terms.shared_language
        + c.experience * terms.experience
        + c.unstated_concern * terms.unstated_hit
        - c.preference_improvement * unmet
        - c.ethnicity_improvement * terms.wants_same * ~terms.same_ethnicity
    )
    delta = (
        -terms.engagement
        + c.preference_dropout * unmet
        + c.video_dropout * terms.video
        + c.low_bandwidth_video_dropout * (terms.video & terms.low_bandwidth)
        - c.availability_dropout * terms.overlap
        + c.load_dropout * terms.load**2
        - c.severe_in_person_dropout * terms.severe_in_person
        - c.language / 2 * terms.shared_language
        + c.severity_dropout * terms.severity
    )
    return eta, delta


def domain_skill(terms: PairTerms, skill: F64) -> F64:
    """skill_it = Σ_k ω_k·v_{t, domain(concern_k)}; ``skill`` is ``(P, domains)`` per pair."""
    return (np.take_along_axis(skill, terms.domains, axis=1) * terms.domain_weights).sum(axis=1)


def domain_spread(terms: PairTerms, gain: float) -> F64:
    """(1 + g·sev)²·Σ_d π_d², π_d the weight of domain d in the client's concerns: the variance a
    unit-variance domain skill adds to η for each pair."""
    n, d = len(terms), int(CONCERN_DOMAIN_CODE.max()) + 1
    shares = np.zeros((n, d))
    rows = np.repeat(np.arange(n), terms.domains.shape[1])
    np.add.at(shares, (rows, terms.domains.ravel()), terms.domain_weights.ravel())
    return (1 + gain * terms.severity) ** 2 * (shares**2).sum(axis=1)


def therapist_logits(
    terms: PairTerms, therapists: TherapistTraits, c: Coefficients
) -> tuple[F64, F64]:
    """The parts of η and δ from hidden therapist traits; ``therapists`` is aligned to pairs."""
    u = therapists.general
    eta = u + domain_skill(terms, therapists.skill) * (1 + c.severity_skill_gain * terms.severity)
    eta = eta + np.take_along_axis(therapists.warmth, terms.format_used[:, None], axis=1)[:, 0]
    delta = -c.general_retention * u + therapists.retention
    return eta, delta


def logits(terms: PairTerms, therapists: TherapistTraits, c: Coefficients) -> Logits:
    """Both logits of each pair; ``therapists`` is aligned to pairs (one row per pair)."""
    client_eta, client_delta = client_logits(terms, c)
    therapist_eta, therapist_delta = therapist_logits(terms, therapists, c)
    return Logits(client_eta, therapist_eta, client_delta, therapist_delta, c)


@dataclass(frozen=True)
class Outcomes:
    """Drawn courses of therapy, one per pair; NaN/−1 where a value was never observed."""

    sessions: I64
    dropped_out: B
    alliance: F64
    """WAI-SR 1–5 (NaN for clients who never attended)."""
    improved: npt.NDArray[np.float64]
    """1.0 / 0.0 reliable improvement, NaN for clients who never attended."""


def draw_outcomes(rng: Rng, lg: Logits) -> Outcomes:
    """Draw courses from the model.

    dropout ~ Bernoulli(σ(δ)); dropouts attend 0–3 sessions (:data:`DROPOUT_SESSIONS_P`); others
    end by agreement at 2–3 sessions with probability early_end, else attend 4 + Geometric(0.15)
    − 1. Latent improvement ℓ = η + Logistic(0, 1): reliable improvement is ℓ > 0 (ℓ > 1.5 for
    dropouts). Alliance = clip(3.9 + slope·(ℓ − b_η) + N(0, noise²) − 0.3·dropout, 1, 5).
    """
    n = len(lg.client_eta)
    c = lg.coefficients
    dropped = rng.random(n) < lg.p_dropout
    drop_sessions = np.searchsorted(np.cumsum(DROPOUT_SESSIONS_P), rng.random(n), side="right")
    early = rng.random(n) < c.early_end_rate
    kept_sessions = np.where(early, rng.integers(2, 4, n), 3 + rng.geometric(0.15, n))
    sessions = np.where(dropped, drop_sessions, np.minimum(kept_sessions, 40)).astype(np.int64)
    latent = lg.eta + rng.logistic(0.0, 1.0, n)
    improved = latent > np.where(dropped, DROPOUT_IMPROVEMENT_SHIFT, 0.0)
    raw_alliance = (
        ALLIANCE_MEAN
        + c.alliance_slope * (latent - c.improvement_intercept)
        + rng.normal(0, c.alliance_noise, n)
        + ALLIANCE_DROPOUT * dropped
    )
    alliance = np.clip(np.round(raw_alliance, 1), 1.0, 5.0)
    attended = sessions > 0
    return Outcomes(
        sessions=sessions,
        dropped_out=dropped,
        alliance=np.where(attended, alliance, np.nan),
        improved=np.where(attended, improved.astype(np.float64), np.nan),
    )


__all__ = [
    "SEVERE",
    "Logits",
    "Outcomes",
    "PairTerms",
    "client_logits",
    "domain_skill",
    "domain_spread",
    "draw_outcomes",
    "logits",
    "pair_terms",
    "therapist_logits",
]
