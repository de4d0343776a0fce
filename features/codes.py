"""ISO code lists for regions and languages (SPEC §2), from pycountry's copy of the ISO tables.

Regions are ISO 3166-1 alpha-2 country codes (``IN``) or ISO 3166-2 subdivision codes
(``US-CA``), normalised to upper case; languages are ISO 639-1 codes, normalised to lower case.
A code that does not exist is a contract error, never a silent "no match".
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

import pycountry


class CodeSet(StrEnum):
    """Which ISO code list a column's values come from."""

    REGION = "region"
    LANGUAGE = "language"


HINT = {
    CodeSet.REGION: "an ISO 3166-1 alpha-2 country or ISO 3166-2 subdivision code, e.g. US-CA, IN",
    CodeSet.LANGUAGE: "an ISO 639-1 language code, e.g. en, es",
}


@cache
def known_codes(codes: CodeSet) -> frozenset[str]:
    """Every valid (normalised) code of the list."""
    if codes is CodeSet.REGION:
        countries = {c.alpha_2 for c in pycountry.countries}
        return frozenset(countries | {s.code for s in pycountry.subdivisions})
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def normalise(codes: CodeSet, value: str) -> str:
    """The canonical spelling: ``us-ca`` → ``US-CA``, ``EN`` → ``en``."""
    value = value.strip()
    return value.upper() if codes is CodeSet.REGION else value.lower()


def checked(codes: CodeSet, value: str) -> str:
    """The normalised code; ValueError naming the list when it does not exist."""
    code = normalise(codes, value)
    if code not in known_codes(codes):
        raise ValueError(f"unknown code {value!r}: expected {HINT[codes]}")
    return code


__all__ = ["HINT", "CodeSet", "checked", "known_codes", "normalise"]
