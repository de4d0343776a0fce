"""Client intakes of the synthetic world, drawn column-wise, plus the latent facts behind them.

Symptom scores are noisy, sometimes missing measurements of a true severity the outcome model
uses; some clients also carry a concern they did not list, which only their free text may reveal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.schemas import INTAKES
from features.vocab import SELF_PAY, Format, Gender
from synth.catalog import (
    COUNTRIES,
    PUBLIC_INSURER_SHARE,
    PUBLIC_INSURERS,
    region_country,
    region_offset,
    region_weight,
)
from synth.clinical import (
    AGE_GROUPS,
    APPROACHES,
    CONCERNS,
    CULTURAL,
    approach_affinity,
    approach_base,
    concern_weights,
)
from synth.config import WorldConfig
from synth.demographics import country_values, ethnicities, languages
from synth.frames import typed_frame
from synth.sampling import (
    categorical,
    lists_from_codes,
    lists_from_mask,
    ordered_subset,
    per_value,
    weekly_hours,
)
from synth.texts import free_texts

Rng = np.random.Generator
Obj = npt.NDArray[np.object_]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

AGE_P = (0.05, 0.09, 0.74, 0.12)
N_CONCERNS_P = (0.30, 0.30, 0.22, 0.12, 0.06)
"""Probability of naming 1, 2, …, 5 concerns."""
FORMATS = tuple(m.value for m in Format)
FORMAT_P = np.array([0.85, 0.40, 0.15, 0.30])
LOW_BANDWIDTH_FORMAT_P = np.array([0.50, 0.80, 0.35, 0.30])
GENDERS = tuple(m.value for m in Gender)
GENDER_P = (0.60, 0.35, 0.03, 0.02)
CLIENT_PATTERNS = (0.30, 0.20, 0.65, 0.45)
"""Probability of being free weekday mornings, weekday daytime, weekday evenings, weekends."""
GENDER_PREFERENCE_SHARE = 0.30
GENDER_PREFERENCES: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    # client gender → (preferred therapist genders, probability)
    "woman": ((("woman",), 0.85), (("woman", "nonbinary"), 0.10), (("man",), 0.05)),
    "man": ((("man",), 0.50), (("woman",), 0.45), (("man", "woman"), 0.05)),
    "nonbinary": ((("nonbinary",), 0.50), (("nonbinary", "woman"), 0.50)),
    "undisclosed": ((("woman",), 0.60), (("man",), 0.40)),
}
ITEM9_SHARES = (0.04, 0.01, 0.005)
"""Shares of known phq9_item9 at 1, 2 and 3 (the rest 0)."""


@dataclass(frozen=True)
class IntakeLatents:
    """Facts behind the observed intakes, by intake row (hidden from any model)."""

    severity: F64
    """True severity in [0, 1] on the scale of ``IntakeBatch.severity``."""
    unstated_concern: I64
    """A concern code the client did not list (−1 for none)."""


def _where(rng: Rng, n: int, config: WorldConfig) -> tuple[Obj, Obj, I64]:
    """Client region (subdivision where licensure is country-wide), country and UTC offset."""
    regions = np.array(config.region_list, dtype=object)
    jurisdiction = regions[categorical(rng, [region_weight(str(r)) for r in regions], n)]
    region = jurisdiction.copy()
    for code in np.unique(jurisdiction):
        sub = COUNTRIES.get(str(code))
        if sub is not None and sub.client_subregions:
            rows = jurisdiction == code
            names_ = np.array([s for s, _ in sub.client_subregions], dtype=object)
            region[rows] = names_[
                categorical(rng, [p for _, p in sub.client_subregions], int(rows.sum()))
            ]
    country = per_value(jurisdiction, region_country)
    offset = per_value(jurisdiction, region_offset).astype(np.int64)
    return region, country, offset


def _symptoms(rng: Rng, concern_mask: F64, known_share: float = 0.88) -> tuple[F64, F64, F64, F64]:
    """True phq9/gad7 and their observed (rounded, sometimes missing) values."""
    n = len(concern_mask)
    z = rng.normal(0, 1, n)

    def has(*names_: str) -> F64:
        return concern_mask[:, [CONCERNS.index(c) for c in names_]].max(axis=1)

    dep = 0.8 * z + 0.6 * rng.normal(0, 1, n) + 0.6 * has("depression", "bipolar", "grief_loss")
    anx = 0.8 * z + 0.6 * rng.normal(0, 1, n) + 0.6 * has("anxiety", "ocd", "trauma_ptsd")
    phq9_true = np.clip(10.5 + 6.0 * dep, 0, 27)
    gad7_true = np.clip(8.5 + 4.5 * anx, 0, 21)
    both_missing = rng.random(n) < (1 - known_share)
    phq9 = np.where(both_missing | (rng.random(n) < 0.04), np.nan, np.round(phq9_true))
    gad7 = np.where(both_missing | (rng.random(n) < 0.04), np.nan, np.round(gad7_true))
    return phq9_true, gad7_true, phq9, gad7


def _item9(rng: Rng, phq9_true: F64, phq9: F64) -> F64:
    """Self-harm item: a latent tied to depression severity, cut at fixed population shares."""
    latent = 0.8 * (phq9_true - phq9_true.mean()) / (phq9_true.std() + 1e-9)
    latent = latent + 0.6 * rng.normal(0, 1, len(phq9))
    at_least = np.cumsum(ITEM9_SHARES[::-1])[::-1]
    cuts = np.quantile(latent, 1 - at_least) if len(latent) else np.zeros(3)
    item9 = (latent[:, None] > cuts[None, :]).sum(axis=1).astype(np.float64)
    return np.where(np.isnan(phq9), np.nan, item9)


def _gender_preferences(rng: Rng, client_gender: Obj) -> list[list[str]]:
    """Preferred therapist genders for ~30% of clients, by the client's own gender."""
    mask = np.zeros((len(client_gender), len(GENDERS)), dtype=bool)
    asks = rng.random(len(client_gender)) < GENDER_PREFERENCE_SHARE
    for gender, options in GENDER_PREFERENCES.items():
        rows = asks & (client_gender == gender)
        table = np.array([[g in wanted for g in GENDERS] for wanted, _ in options])
        mask[rows] = table[categorical(rng, [p for _, p in options], int(rows.sum()))]
    return lists_from_mask(mask, GENDERS)


def _cultural_preferences(
    rng: Rng, concern_mask: F64, *, ethnicity: Obj, country: Obj, other_language: Obj, gender: Obj
) -> B:
    """Cultural preferences tied to who the client is and what they bring (≈ 20% have one)."""
    n = len(ethnicity)
    p = np.zeros((n, len(CULTURAL)))

    def col(name: str) -> int:
        return CULTURAL.index(name)

    lgbt = concern_mask[:, CONCERNS.index("identity_lgbtqia")] > 0
    p[:, col("lgbtqia_affirming")] = np.where(lgbt | (gender == "nonbinary"), 0.7, 0.04)
    minority = ~np.isin(ethnicity, ["white", "undisclosed"]) & (country != "IN")
    p[:, col("bipoc_centered")] = np.where(minority, 0.12, 0.0)
    faith = per_value(country, lambda c: CULTURAL.index(COUNTRIES[c].faith)).astype(np.int64)
    p[np.arange(n), faith] = 0.04
    adhd = concern_mask[:, CONCERNS.index("adhd")] > 0
    p[:, col("neurodivergent_affirming")] = np.where(adhd, 0.3, 0.01)
    p[:, col("immigrant_refugee")] = np.where(other_language != "", 0.10, 0.005)
    p[:, col("veterans_military")] = 0.02
    p[:, col("disability_affirming")] = 0.02
    p[:, col("first_responders")] = 0.01
    p[:, col("deaf_hard_of_hearing")] = 0.003
    return rng.random(p.shape) < p


def _payment(rng: Rng, country: Obj) -> tuple[Obj, F64]:
    """Payer code per client, and the most a self-paying client will pay (70% say)."""
    n = len(country)
    payment = np.empty(n, dtype=object)
    cap = np.full(n, np.nan)
    self_pay = rng.random(n) < country_values(country, lambda c: c.self_pay_share)
    for code in np.unique(country):
        spec = COUNTRIES[str(code)]
        rows = (country == code) & ~self_pay
        names_ = np.array([name for name, _ in spec.insurers], dtype=object)
        payment[rows] = names_[categorical(rng, [p for _, p in spec.insurers], int(rows.sum()))]
        public = PUBLIC_INSURERS.get(str(code))
        if public is not None:
            payment[rows & (rng.random(n) < PUBLIC_INSURER_SHARE)] = public
        lo, hi = spec.fee_range
        paying = (country == code) & self_pay & (rng.random(n) < 0.7)
        cap[paying] = np.round(rng.uniform(0.9 * lo, 1.3 * hi, int(paying.sum())) / 5) * 5
    payment[self_pay] = SELF_PAY
    return payment, cap


def _submitted_at(rng: Rng, n: int, config: WorldConfig) -> pd.Series:
    """Sorted submission times over ``config.days``; demand grows 60% across the period.

    Density ∝ 1 + 0.6·t/T, sampled by inverting its CDF.
    """
    g = 0.6
    u = rng.random(n)
    frac = (np.sqrt(1 + g * (2 + g) * u) - 1) / g
    seconds = np.sort(np.floor(frac * config.days * 86400)).astype(np.int64)
    start = pd.Timestamp(config.start).tz_convert("UTC")
    return pd.Series(start + pd.to_timedelta(seconds, unit="s"))


def draw_intakes(config: WorldConfig, rng: Rng) -> tuple[pd.DataFrame, IntakeLatents]:
    """The typed intakes table (rows in submission order) and the latent facts behind it.

    A returning client's later intakes repeat who they are (region, age group, gender,
    ethnicity, languages); what brings them and their preferences are drawn afresh.
    """
    n = config.n_intakes
    owner = _client_owner(rng, n)
    region, country, offset = _where(rng, n, config)
    region, country, offset = region[owner], country[owner], offset[owner]
    age = categorical(rng, AGE_P, n)[owner]
    n_concerns = 1 + categorical(rng, N_CONCERNS_P, n)
    weights = concern_weights()[age]
    concerns, drawn = ordered_subset(rng, weights, n_concerns)
    concern_mask = np.zeros((n, len(CONCERNS)))
    np.put_along_axis(concern_mask, concerns, drawn.astype(float), axis=1)
    unstated = np.where(
        rng.random(n) < 0.35, categorical(rng, weights * (1 - concern_mask)), -1
    ).astype(np.int64)

    phq9_true, gad7_true, phq9, gad7 = _symptoms(rng, concern_mask)
    item9 = _item9(rng, phq9_true, phq9)
    crisis_now = rng.random(n) < 0.003 + 0.12 * (np.nan_to_num(item9) >= 2)
    spoken_lists, other_language = languages(country, rng, lambda c: c.client_languages)
    spoken = [spoken_lists[k] for k in owner.tolist()]
    other_language = other_language[owner]
    ethnicity = ethnicities(country, other_language, rng, lambda c: c.client_ethnicity)[owner]
    gender = np.array(GENDERS, dtype=object)[categorical(rng, GENDER_P, n)][owner]
    minority = ~np.isin(ethnicity, ["white", "undisclosed"])
    same_ethnicity = rng.random(n) < np.where(
        minority, 0.25, np.where(ethnicity == "white", 0.03, 0.0)
    )
    low_bw = rng.random(n) < country_values(country, lambda c: c.low_bandwidth)
    formats = rng.random((n, len(FORMATS))) < np.where(
        low_bw[:, None], LOW_BANDWIDTH_FORMAT_P, FORMAT_P
    )
    formats[~formats.any(axis=1), 0] = True
    wants_modality = rng.random(n) < 0.25
    modality_w = approach_base()[None, :] + 0.8 * (concern_mask @ approach_affinity())
    modalities, modality_drawn = ordered_subset(
        rng, modality_w, np.where(wants_modality, 1 + (rng.random(n) < 0.4), 0).astype(np.int64)
    )
    payment, cap = _payment(rng, country)
    has_text = rng.random(n) < 0.7
    text = free_texts(rng, concerns, drawn, unstated)
    text[~has_text] = None
    frame = typed_frame(
        INTAKES,
        {
            "intake_id": np.char.add("I", np.char.zfill(np.arange(n).astype(str), 6)),
            "client_id": _client_ids(owner),
            "submitted_at": _submitted_at(rng, n, config),
            "age_group": np.array(AGE_GROUPS, dtype=object)[age],
            "region": region,
            "concerns": lists_from_codes(concerns, drawn, CONCERNS),
            "phq9": phq9,
            "gad7": gad7,
            "phq9_item9": item9,
            "crisis_now": crisis_now,
            "preferred_formats": lists_from_mask(formats, FORMATS),
            "languages": spoken,
            "preferred_therapist_genders": _gender_preferences(rng, gender),
            "cultural_preferences": lists_from_mask(
                _cultural_preferences(
                    rng,
                    concern_mask,
                    ethnicity=ethnicity,
                    country=country,
                    other_language=other_language,
                    gender=gender,
                ),
                CULTURAL,
            ),
            "preferred_modalities": lists_from_codes(modalities, modality_drawn, APPROACHES),
            "client_gender": gender,
            "client_ethnicity": ethnicity,
            "prefers_same_ethnicity": same_ethnicity,
            "availability": lists_from_mask(
                weekly_hours(rng, CLIENT_PATTERNS, offset), list(range(168))
            ),
            "payment": payment,
            "max_session_fee": cap,
            "low_bandwidth": low_bw,
            "free_text": text,
        },
    )
    severity = np.fmax(phq9_true / 27.0, gad7_true / 21.0)
    return frame, IntakeLatents(severity=severity, unstated_concern=unstated)


def _client_owner(rng: Rng, n: int) -> I64:
    """Row of each intake's client's first intake (itself for new clients; ~8% return).

    Intakes are in submission order, so a returning client points at an earlier row; chains are
    followed (pointer doubling) until every row points at a first intake.
    """
    rows = np.arange(n)
    returning = (rng.random(n) < 0.08) & (rows > 0)
    owner = np.where(returning, np.floor(rng.random(n) * rows).astype(np.int64), rows)
    while (owner[owner] != owner).any():
        owner = owner[owner]
    return owner


def _client_ids(owner: I64) -> Obj:
    """Pseudonymous client ids: a bijective hash of the first intake's row (mod 10⁸)."""
    digest = (owner * 2654435761 + 12345) % 10**8
    return np.char.add("C", np.char.zfill(digest.astype(str), 8)).astype(object)


__all__ = ["IntakeLatents", "draw_intakes"]
