"""Therapist profiles and client intakes of the synthetic world (vectorised draws)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.parsing import parse_table
from features.schemas import INTAKES, THERAPISTS
from features.vocab import AgeGroup, Approach, Cultural, Ethnicity, Format, Gender, License
from training.synth.config import WorldConfig
from training.synth.vocab import (
    CONCERN_WEIGHTS,
    FIRST_NAMES,
    INSURERS,
    LAST_NAMES,
    PHRASES,
    REGIONS,
    SECOND_LANGUAGE,
)

Rng = np.random.Generator
CONCERNS = np.array(list(CONCERN_WEIGHTS))
CONCERN_P = np.array(list(CONCERN_WEIGHTS.values())) / sum(CONCERN_WEIGHTS.values())
ETHNICITY_P = [0.10, 0.13, 0.17, 0.04, 0.02, 0.01, 0.45, 0.05, 0.03]


def mask_lists(mask: npt.NDArray[np.bool_], values: npt.ArrayLike) -> list[list[Any]]:
    """Rows of a boolean membership matrix as lists of the matching values."""
    values = np.asarray(values)
    rows, cols = np.nonzero(mask)
    splits = np.cumsum(np.bincount(rows, minlength=mask.shape[0]))[:-1]
    return [list(part) for part in np.split(values[cols], splits)]


def ordered_sample(
    rng: Rng, n: int, p: npt.NDArray[np.float64], sizes: npt.NDArray[np.int64]
) -> list[list[str]]:
    """Per row, ``sizes[r]`` distinct concerns by weight, most important first (Gumbel top-k)."""
    keys = np.log(p)[None, :] + rng.gumbel(size=(n, len(p)))
    order = np.argsort(-keys, axis=1)
    return [list(CONCERNS[order[r, : sizes[r]]]) for r in range(n)]


def hour_blocks(rng: Rng, n: int, blocks_lo: int, blocks_hi: int) -> list[list[Any]]:
    """Weekly availability: a few blocks of 2–5 consecutive hours on random days."""
    k = rng.integers(blocks_lo, blocks_hi + 1, size=n)
    total = int(k.sum())
    starts = rng.integers(0, 7, size=total) * 24 + rng.choice([7, 9, 12, 16, 18, 20], size=total)
    lengths = rng.integers(2, 6, size=total)
    owner = np.repeat(np.arange(n), k)
    hours = np.zeros((n, 168), dtype=bool)
    for offset in range(5):
        live = offset < lengths
        hours[owner[live], (starts[live] + offset) % 168] = True
    return mask_lists(hours, np.arange(168))


def _country(region: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    return np.char.partition(region.astype(str), "-")[:, 0]


def _regions(rng: Rng, n: int) -> npt.NDArray[np.str_]:
    names = np.array(list(REGIONS))
    return names[rng.choice(len(names), size=n, p=np.array(list(REGIONS.values())))]


def _languages(rng: Rng, country: npt.NDArray[np.str_], english_p: float) -> list[list[str]]:
    out = []
    second = rng.random(len(country))
    english = rng.random(len(country)) < english_p
    for c, s, en in zip(country, second, english, strict=True):
        lang, p = SECOND_LANGUAGE.get(str(c), ("es", 0.0))
        langs = (["en"] if en or s >= p else []) + ([lang] if s < p else [])
        out.append(langs)
    return out


def _payers(rng: Rng, country: npt.NDArray[np.str_]) -> list[list[str]]:
    out = []
    for c in country:
        insurers = INSURERS[str(c)]
        take = [x for x in insurers if rng.random() < 0.5]
        out.append((["self_pay"] if rng.random() < 0.85 or not take else []) + take)
    return out


def _bio(license_type: str, specialties: list[str], modality: str, years: int) -> str:
    topics = ", ".join(PHRASES[s] for s in specialties[:3])
    return (
        f"I am a {license_type} with {years} years of practice. I work with {topics}. "
        f"My approach draws on {modality.replace('_', ' ')}, at a pace that suits you."
    )


def therapists(config: WorldConfig, rng: Rng) -> pd.DataFrame:
    """Typed therapist table."""
    n = config.n_therapists
    region = _regions(rng, n)
    country = _country(region)
    second = rng.random(n) < 0.15
    other = _regions(rng, n)
    regions = [
        [r] + ([o] if s and o != r else []) for r, s, o in zip(region, second, other, strict=True)
    ]
    n_spec = rng.integers(2, 7, size=n)
    specialties = ordered_sample(rng, n, np.sqrt(CONCERN_P) / np.sqrt(CONCERN_P).sum(), n_spec)
    modalities = mask_lists(rng.random((n, len(Approach))) < 0.18, [m.value for m in Approach])
    modalities = [m or ["cbt"] for m in modalities]
    fmt_p = np.array([0.92, 0.5, 0.2, 0.45])
    formats = mask_lists(rng.random((n, 4)) < fmt_p, [m.value for m in Format])
    formats = [f or ["video"] for f in formats]
    ages = mask_lists(
        rng.random((n, 4)) < np.array([0.15, 0.3, 0.95, 0.5]), [m.value for m in AgeGroup]
    )
    ages = [a or ["adult"] for a in ages]
    max_case = rng.integers(8, 36, size=n)
    current = np.minimum(np.round(max_case * rng.beta(5, 2.2, size=n)).astype(int), max_case)
    license_type = np.array([m.value for m in License])[
        rng.choice(6, size=n, p=[0.22, 0.05, 0.25, 0.22, 0.16, 0.10])
    ]
    years = np.clip(np.round(rng.gamma(2.2, 5.5, size=n)), 0, 45).astype(int)
    modality_first = [m[0] for m in modalities]
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    raw = pd.DataFrame(
        {
            "therapist_id": [f"T{k:05d}" for k in range(n)],
            "display_name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
            "license_type": license_type,
            "licensed_regions": regions,
            "years_experience": years,
            "specialties": specialties,
            "modalities": modalities,
            "formats": formats,
            "languages": _languages(rng, country, 0.95),
            "cultural_competencies": mask_lists(
                rng.random((n, len(Cultural))) < 0.09, [m.value for m in Cultural]
            ),
            "gender": np.array([m.value for m in Gender])[
                rng.choice(4, size=n, p=[0.64, 0.28, 0.05, 0.03])
            ],
            "ethnicity": np.array([m.value for m in Ethnicity])[
                rng.choice(9, size=n, p=ETHNICITY_P)
            ],
            "age_groups_served": ages,
            "payers_accepted": _payers(rng, country),
            "session_fee": np.round(rng.uniform(60, 240, size=n), 0),
            "availability": hour_blocks(rng, n, 3, 7),
            "max_caseload": max_case,
            "current_caseload": current,
            "accepting_new_clients": rng.random(n) < 0.9,
            "crisis_trained": rng.random(n) < 0.3,
            "bio": [
                _bio(lt, s, m, y)
                for lt, s, m, y in zip(
                    license_type, specialties, modality_first, years, strict=True
                )
            ],
        }
    )
    frame, problems, _ = parse_table("therapists", THERAPISTS, raw)
    assert not problems, problems[:3]
    return frame


def intakes(config: WorldConfig, rng: Rng) -> pd.DataFrame:
    """Typed intake table, sorted by submission time."""
    n = config.n_intakes
    region = _regions(rng, n)
    country = _country(region)
    sizes = np.clip(rng.poisson(1.3, size=n) + 1, 1, 5)
    concerns = ordered_sample(rng, n, CONCERN_P, sizes)
    latent = rng.normal(0, 1, size=n)
    phq9 = np.clip(np.round(10 + 5 * latent + rng.normal(0, 2.5, n)), 0, 27)
    gad7 = np.clip(np.round(8 + 4 * latent + rng.normal(0, 2.5, n)), 0, 21)
    item9 = rng.choice(4, size=n, p=[0.945, 0.04, 0.01, 0.005])
    fmt = rng.random((n, 4)) < np.array([0.85, 0.4, 0.2, 0.3])
    fmt[~fmt.any(1), 0] = True
    self_pay = rng.random(n) < 0.35
    payment = np.where(
        self_pay,
        "self_pay",
        [INSURERS[str(c)][rng.integers(len(INSURERS[str(c)]))] for c in country],
    )
    gender_pref = mask_lists(
        (rng.random((n, 1)) < 0.3) & (rng.random((n, 3)) < np.array([0.7, 0.3, 0.1])),
        ["woman", "man", "nonbinary"],
    )
    ethnicity = np.array([m.value for m in Ethnicity])[rng.choice(9, size=n, p=ETHNICITY_P)]
    wants_same = (rng.random(n) < 0.25) & ~np.isin(ethnicity, ["white", "undisclosed"])
    text_on = rng.random(n) < 0.6
    start = pd.Timestamp("2025-01-01", tz="UTC")
    seconds = np.sort(rng.integers(0, config.days * 86400, n))
    stamps = start + pd.to_timedelta(seconds, unit="s")
    raw = pd.DataFrame(
        {
            "intake_id": [f"I{k:06d}" for k in range(n)],
            "client_id": [f"C{k:06d}" for k in rng.permutation(n)],
            "submitted_at": stamps,
            "age_group": np.array([m.value for m in AgeGroup])[
                rng.choice(4, size=n, p=[0.06, 0.1, 0.72, 0.12])
            ],
            "region": region,
            "concerns": concerns,
            "phq9": np.where(rng.random(n) < 0.9, phq9, np.nan),
            "gad7": np.where(rng.random(n) < 0.9, gad7, np.nan),
            "phq9_item9": item9,
            "crisis_now": rng.random(n) < 0.004,
            "preferred_formats": mask_lists(fmt, [m.value for m in Format]),
            "languages": _languages(rng, country, 0.9),
            "preferred_therapist_genders": gender_pref,
            "cultural_preferences": mask_lists(
                (rng.random((n, 1)) < 0.22) & (rng.random((n, len(Cultural))) < 0.12),
                [m.value for m in Cultural],
            ),
            "preferred_modalities": mask_lists(
                (rng.random((n, 1)) < 0.25) & (rng.random((n, len(Approach))) < 0.12),
                [m.value for m in Approach],
            ),
            "client_gender": np.array([m.value for m in Gender])[
                rng.choice(4, size=n, p=[0.58, 0.36, 0.04, 0.02])
            ],
            "client_ethnicity": ethnicity,
            "prefers_same_ethnicity": wants_same,
            "availability": hour_blocks(rng, n, 2, 5),
            "payment": payment,
            "max_session_fee": np.where(
                self_pay & (rng.random(n) < 0.7), np.round(rng.uniform(70, 260, n)), np.nan
            ),
            "low_bandwidth": rng.random(n) < 0.15,
            "free_text": [
                f"I have been struggling with {PHRASES[c[0]]}"
                + (f" and {PHRASES[c[1]]}" if len(c) > 1 else "")
                if on
                else None
                for c, on in zip(concerns, text_on, strict=True)
            ],
        }
    )
    frame, problems, _ = parse_table("intakes", INTAKES, raw)
    assert not problems, problems[:3]
    return frame


__all__ = ["hour_blocks", "intakes", "mask_lists", "therapists"]
