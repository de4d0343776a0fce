"""Per-country draws shared by therapists and clients: languages, ethnicity, payers.

Each draw loops over the few countries, never over rows: rows take an option index from their
country's distribution and option tables turn indices into membership masks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from features.vocab import SELF_PAY
from synth.catalog import COUNTRIES, ETHNICITIES, PUBLIC_INSURERS, Country
from synth.sampling import categorical, lists_from_mask, per_value

Rng = np.random.Generator
Obj = npt.NDArray[np.object_]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]
LanguageOptions = tuple[tuple[tuple[str, ...], float], ...]

ENGLISH = "en"
LANGUAGES: tuple[str, ...] = (
    ENGLISH,
    *sorted(
        {
            lang
            for c in COUNTRIES.values()
            for options in (c.client_languages, c.therapist_languages)
            for langs, _ in options
            for lang in langs
        }
        - {ENGLISH}
    ),
)
"""Every language the catalog uses, English first (list cells keep this order)."""
PAYERS: tuple[str, ...] = (
    SELF_PAY,
    *(name for c in COUNTRIES.values() for name, _ in c.insurers),
    *PUBLIC_INSURERS.values(),
)
ETHNICITY_OF_LANGUAGE = {
    "es": "hispanic_latino",
    "pt": "hispanic_latino",
    "zh": "asian",
    "vi": "asian",
    "hi": "asian",
    "ur": "asian",
    "pa": "asian",
    "ar": "middle_eastern_north_african",
}
"""Speakers of these languages mostly report this ethnicity (80%)."""


def by_country(country: Obj, rng: Rng, probs_of: Callable[[Country], Sequence[float]]) -> I64:
    """An option index per row, drawn from its country's distribution ``probs_of(country)``."""
    out = np.zeros(len(country), dtype=np.int64)
    for code in np.unique(country.astype(str)):
        rows = country == code
        out[rows] = categorical(rng, probs_of(COUNTRIES[code]), int(rows.sum()))
    return out


def languages(
    country: Obj, rng: Rng, options_of: Callable[[Country], LanguageOptions]
) -> tuple[list[list[str]], Obj]:
    """Language lists per row (by country mix) and the non-English language in each ("" if none)."""
    pick = by_country(country, rng, lambda c: [p for _, p in options_of(c)])
    mask = np.zeros((len(country), len(LANGUAGES)), dtype=bool)
    other = np.full(len(country), "", dtype=object)
    for code in np.unique(country.astype(str)):
        rows = country == code
        options = options_of(COUNTRIES[code])
        table = np.array([[lang in langs for lang in LANGUAGES] for langs, _ in options])
        mask[rows] = table[pick[rows]]
        first_other = np.array(
            [next((x for x in langs if x != ENGLISH), "") for langs, _ in options], dtype=object
        )
        other[rows] = first_other[pick[rows]]
    return lists_from_mask(mask, LANGUAGES), other


def ethnicities(
    country: Obj, other_language: Obj, rng: Rng, probs_of: Callable[[Country], Sequence[float]]
) -> Obj:
    """Self-reported ethnicity by country mix, tilted by the non-English language spoken."""
    out = np.array(ETHNICITIES, dtype=object)[by_country(country, rng, probs_of)]
    swap = per_value(other_language, lambda lang: ETHNICITY_OF_LANGUAGE.get(lang, ""))
    take = (swap != "") & (rng.random(len(country)) < 0.8)
    out[take] = swap[take]
    return out


def accepted_payers(country: Obj, rng: Rng) -> tuple[list[list[str]], B]:
    """Payers a therapist accepts: self-pay 90%, each of the country's insurers 50%, its public
    programme 20% (at least one). Also whether each takes self-pay."""

    def probs(code: str) -> F64:
        spec = COUNTRIES[code]
        p = np.zeros(len(PAYERS))
        p[0] = 0.9
        p[[PAYERS.index(name) for name, _ in spec.insurers]] = 0.5
        if code in PUBLIC_INSURERS:
            p[PAYERS.index(PUBLIC_INSURERS[code])] = 0.2
        return p

    mask = rng.random((len(country), len(PAYERS))) < np.stack(list(per_value(country, probs)))
    mask[~mask.any(axis=1), 0] = True
    return lists_from_mask(mask, PAYERS), mask[:, 0]


def country_values(country: Obj, fn: Callable[[Country], float]) -> F64:
    """A numeric country attribute per row."""
    return per_value(country, lambda code: float(fn(COUNTRIES[code]))).astype(np.float64)


__all__ = [
    "LANGUAGES",
    "PAYERS",
    "accepted_payers",
    "by_country",
    "country_values",
    "ethnicities",
    "languages",
]
