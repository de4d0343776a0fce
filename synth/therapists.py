"""Therapist profiles of the synthetic world, drawn column-wise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.schemas import THERAPISTS
from features.vocab import Format, Gender, License
from synth.catalog import (
    COUNTRIES,
    region_country,
    region_offset,
    region_weight,
)
from synth.clinical import (
    AGE_GROUPS,
    APPROACHES,
    CONCERNS,
    CULTURAL,
    CULTURAL_BASE,
    approach_affinity,
    approach_base,
    concern_weights,
)
from synth.config import WorldConfig
from synth.demographics import accepted_payers, country_values, ethnicities, languages
from synth.frames import typed_frame
from synth.sampling import (
    categorical,
    lists_from_codes,
    lists_from_mask,
    ordered_subset,
    per_value,
    weekly_hours,
)
from synth.texts import bios, names

Rng = np.random.Generator
Obj = npt.NDArray[np.object_]
I64 = npt.NDArray[np.int64]

LICENSES = tuple(m.value for m in License)
LICENSE_P = (0.22, 0.04, 0.25, 0.22, 0.15, 0.12)
FORMATS = tuple(m.value for m in Format)
FORMAT_P = (0.93, 0.55, 0.20, 0.45)
CREDENTIALS = {"lcsw": ", LCSW", "lpc": ", LPC", "lmft": ", LMFT", "associate": " (Associate)"}
"""Display-name suffix per license (psychologists and psychiatrists are "Dr.")."""
GENDERS = tuple(m.value for m in Gender)
GENDER_P = (0.65, 0.28, 0.04, 0.03)
AGE_P = (0.15, 0.30, 0.97, 0.55)
WORK_PATTERNS = (0.6, 0.7, 0.45, 0.25)
"""Probability of offering weekday mornings, weekday daytime, weekday evenings, weekends."""


def jurisdictions(config: WorldConfig, rng: Rng, n: int) -> tuple[Obj, list[list[str]]]:
    """Primary jurisdiction of each therapist and the full list they are licensed in.

    Supply follows demand with a per-region factor in [0.7, 1.3] (some regions are under-served);
    20% of US therapists also hold 1–2 further licences among the world's US states (compacts).
    """
    regions = np.array(config.region_list, dtype=object)
    weight = np.array([region_weight(str(r)) for r in regions])
    primary_code = categorical(rng, weight * rng.uniform(0.7, 1.3, len(regions)), n)
    us = np.array([region_country(str(r)) == "US" for r in regions])
    extra_n = np.where(us[primary_code] & (rng.random(n) < 0.2), rng.integers(1, 3, n), 0)
    weights = np.where(us, weight, 0.0)[None, :].repeat(n, axis=0)
    weights[np.arange(n), primary_code] = 0.0
    extra, drawn = ordered_subset(rng, weights, np.minimum(extra_n, us.sum() - 1))
    codes = np.concatenate([primary_code[:, None], extra], axis=1)
    mask = np.concatenate([np.ones((n, 1), dtype=bool), drawn], axis=1)
    return regions[primary_code], lists_from_codes(codes, mask, list(regions))


def draw_therapists(config: WorldConfig, rng: Rng) -> pd.DataFrame:
    """The typed therapists table (as :func:`features.dataset.load_dataset` would give it)."""
    n = config.n_therapists
    primary, licensed = jurisdictions(config, rng, n)
    country = per_value(primary, region_country)
    offset = per_value(primary, region_offset).astype(np.int64)
    spoken, other_language = languages(country, rng, lambda c: c.therapist_languages)
    ethnicity = ethnicities(country, other_language, rng, lambda c: c.therapist_ethnicity)
    gender = np.array(GENDERS, dtype=object)[categorical(rng, GENDER_P, n)]
    license_code = categorical(rng, LICENSE_P, n)
    license_type = np.array(LICENSES, dtype=object)[license_code]
    doctor = np.isin(license_type, ["psychologist", "psychiatrist"])
    years = np.clip(np.round(rng.gamma(2.2, 5.5, n)) + 2 * doctor, 0, 45).astype(np.int64)
    years = np.where(license_type == "associate", rng.integers(0, 4, n), years)

    n_spec = 2 + rng.binomial(6, 0.4, n)
    spec_weight = np.sqrt(concern_weights().mean(axis=0))
    specialties, spec_drawn = ordered_subset(rng, spec_weight, n_spec)
    spec_mask = np.zeros((n, len(CONCERNS)))
    np.put_along_axis(spec_mask, specialties, spec_drawn.astype(float), axis=1)
    approach_w = approach_base()[None, :] + 0.8 * (spec_mask @ approach_affinity())
    approaches, appr_drawn = ordered_subset(rng, approach_w, 1 + rng.binomial(3, 0.4, n))

    formats = rng.random((n, len(FORMATS))) < np.array(FORMAT_P)
    formats[~formats.any(axis=1), 0] = True
    ages = rng.random((n, len(AGE_GROUPS))) < np.array(AGE_P)
    ages[~ages.any(axis=1), AGE_GROUPS.index("adult")] = True

    base_rates = np.array([CULTURAL_BASE[c] for c in CULTURAL])
    cultural_p = np.broadcast_to(base_rates, (n, len(CULTURAL))).copy()
    minority = ~np.isin(ethnicity, ["white", "undisclosed"])
    cultural_p[minority, CULTURAL.index("bipoc_centered")] = 0.45
    lgbt = spec_mask[:, CONCERNS.index("identity_lgbtqia")] > 0
    cultural_p[lgbt, CULTURAL.index("lgbtqia_affirming")] = 0.95
    faith = per_value(country, lambda c: CULTURAL.index(COUNTRIES[c].faith)).astype(np.int64)
    cultural_p[np.arange(n), faith] *= 3
    cultural = rng.random((n, len(CULTURAL))) < cultural_p

    payer_lists, takes_self_pay = accepted_payers(country, rng)
    lo = country_values(country, lambda c: c.fee_range[0])
    hi = country_values(country, lambda c: c.fee_range[1])
    fee = np.round(rng.uniform(lo, hi) * np.where(doctor, 1.2, 1.0) / 5) * 5
    max_case = rng.integers(10, 36, n)
    full = rng.random(n) < 0.12
    current = np.where(full, max_case, np.floor(max_case * rng.uniform(0.3, 0.95, n)))
    crisis_p = np.where(doctor, 0.42, np.where(license_type == "associate", 0.12, 0.28))

    stems = names(rng, n)
    credential = per_value(license_type, lambda lt: CREDENTIALS.get(lt, ""))
    display = np.where(doctor, "Dr. " + stems, stems + credential)
    return typed_frame(
        THERAPISTS,
        {
            "therapist_id": np.char.add("T", np.char.zfill(np.arange(n).astype(str), 5)),
            "display_name": display,
            "license_type": license_type,
            "licensed_regions": licensed,
            "years_experience": years,
            "specialties": lists_from_codes(specialties, spec_drawn, CONCERNS),
            "modalities": lists_from_codes(approaches, appr_drawn, APPROACHES),
            "formats": lists_from_mask(formats, FORMATS),
            "languages": spoken,
            "cultural_competencies": lists_from_mask(cultural, CULTURAL),
            "gender": gender,
            "ethnicity": ethnicity,
            "age_groups_served": lists_from_mask(ages, AGE_GROUPS),
            "payers_accepted": payer_lists,
            "session_fee": np.where(takes_self_pay, fee, np.nan),
            "availability": lists_from_mask(
                weekly_hours(rng, WORK_PATTERNS, offset), list(range(168))
            ),
            "max_caseload": max_case,
            "current_caseload": current.astype(np.int64),
            "accepting_new_clients": rng.random(n) < 0.9,
            "crisis_trained": rng.random(n) < crisis_p,
            "bio": bios(
                rng,
                specialties=(specialties, spec_drawn),
                approaches=(approaches, appr_drawn),
                years=years,
                other_language=other_language,
            ),
        },
    )


__all__ = ["draw_therapists", "jurisdictions"]
