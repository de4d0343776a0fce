"""Static facts the synthetic world draws from: jurisdictions, countries, payers, languages.

Frequencies are plausible, not measured; they only need to give the world realistic structure
(most clients speak English, most therapists are white women, payers differ by country, …).
"""

from __future__ import annotations

from dataclasses import dataclass

from features.vocab import Ethnicity


@dataclass(frozen=True)
class Country:
    """What a country contributes to profiles drawn in it."""

    code: str
    weight: float
    """Client demand when the country's code itself is a jurisdiction (GB, IN), on the scale of
    :data:`US_STATES` populations (millions)."""
    client_subregions: tuple[tuple[str, float], ...]
    """Where clients live when licensure is country-wide (GB-ENG, IN-MH); empty otherwise."""
    utc_offset: int
    insurers: tuple[tuple[str, float], ...]
    """Insurer codes and market shares among insured clients."""
    self_pay_share: float
    """Share of clients paying out of pocket."""
    fee_range: tuple[float, float]
    client_languages: tuple[tuple[tuple[str, ...], float], ...]
    therapist_languages: tuple[tuple[tuple[str, ...], float], ...]
    client_ethnicity: tuple[float, ...]
    """Probabilities over :class:`~features.vocab.Ethnicity`, in enum order."""
    therapist_ethnicity: tuple[float, ...]
    low_bandwidth: float
    faith: str
    """The most common faith-based competency asked for."""


#                       asian black hisp  mena  indig pac   white multi undis
_US_CLIENTS = (0.07, 0.12, 0.17, 0.02, 0.01, 0.005, 0.545, 0.04, 0.02)
_US_THERAPISTS = (0.07, 0.09, 0.09, 0.015, 0.005, 0.005, 0.69, 0.03, 0.015)
_GB_CLIENTS = (0.09, 0.04, 0.01, 0.02, 0.0, 0.0, 0.79, 0.03, 0.02)
_GB_THERAPISTS = (0.07, 0.03, 0.01, 0.015, 0.0, 0.0, 0.84, 0.02, 0.015)
_IN = (0.97, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03)
_CA_CLIENTS = (0.18, 0.04, 0.01, 0.03, 0.04, 0.0, 0.65, 0.03, 0.02)
_CA_THERAPISTS = (0.12, 0.03, 0.01, 0.02, 0.02, 0.0, 0.76, 0.02, 0.02)

COUNTRIES: dict[str, Country] = {
    "US": Country(
        code="US",
        weight=1.0,
        client_subregions=(),
        utc_offset=-6,
        insurers=(("bcbs", 0.30), ("aetna", 0.20), ("united", 0.18), ("cigna", 0.14)),
        self_pay_share=0.30,
        fee_range=(100.0, 250.0),
        client_languages=(
            (("en",), 0.80),
            (("en", "es"), 0.10),
            (("es",), 0.04),
            (("en", "zh"), 0.02),
            (("en", "vi"), 0.01),
            (("en", "ar"), 0.01),
            (("en", "pt"), 0.01),
            (("en", "fr"), 0.01),
        ),
        therapist_languages=(
            (("en",), 0.80),
            (("en", "es"), 0.13),
            (("en", "zh"), 0.02),
            (("en", "fr"), 0.02),
            (("en", "ar"), 0.01),
            (("en", "pt"), 0.01),
            (("en", "vi"), 0.01),
        ),
        client_ethnicity=_US_CLIENTS,
        therapist_ethnicity=_US_THERAPISTS,
        low_bandwidth=0.13,
        faith="faith_christian",
    ),
    "GB": Country(
        code="GB",
        weight=20.0,
        client_subregions=(("GB-ENG", 0.84), ("GB-SCT", 0.09), ("GB-WLS", 0.05), ("GB-NIR", 0.02)),
        utc_offset=0,
        insurers=(("nhs", 0.78), ("bupa", 0.14), ("axa", 0.08)),
        self_pay_share=0.35,
        fee_range=(55.0, 130.0),
        client_languages=(
            (("en",), 0.88),
            (("en", "pl"), 0.03),
            (("en", "ur"), 0.03),
            (("en", "ar"), 0.02),
            (("en", "hi"), 0.02),
            (("en", "fr"), 0.02),
        ),
        therapist_languages=(
            (("en",), 0.90),
            (("en", "pl"), 0.02),
            (("en", "ur"), 0.03),
            (("en", "hi"), 0.02),
            (("en", "fr"), 0.03),
        ),
        client_ethnicity=_GB_CLIENTS,
        therapist_ethnicity=_GB_THERAPISTS,
        low_bandwidth=0.10,
        faith="faith_muslim",
    ),
    "IN": Country(
        code="IN",
        weight=14.0,
        client_subregions=(("IN-MH", 0.35), ("IN-KA", 0.25), ("IN-DL", 0.25), ("IN-TN", 0.15)),
        utc_offset=5,
        insurers=(("star_health", 0.6), ("icici_lombard", 0.4)),
        self_pay_share=0.80,
        fee_range=(15.0, 50.0),
        client_languages=(
            (("en", "hi"), 0.55),
            (("en",), 0.20),
            (("hi",), 0.12),
            (("en", "ta"), 0.08),
            (("en", "mr"), 0.05),
        ),
        therapist_languages=(
            (("en", "hi"), 0.65),
            (("en",), 0.15),
            (("en", "ta"), 0.10),
            (("en", "hi", "mr"), 0.10),
        ),
        client_ethnicity=_IN,
        therapist_ethnicity=_IN,
        low_bandwidth=0.30,
        faith="faith_hindu",
    ),
    "CA": Country(
        code="CA",
        weight=1.0,
        client_subregions=(),
        utc_offset=-5,
        insurers=(("sunlife", 0.5), ("manulife", 0.3), ("greenshield", 0.2)),
        self_pay_share=0.45,
        fee_range=(90.0, 200.0),
        client_languages=(
            (("en",), 0.78),
            (("en", "fr"), 0.12),
            (("fr",), 0.03),
            (("en", "zh"), 0.04),
            (("en", "pa"), 0.03),
        ),
        therapist_languages=(
            (("en",), 0.78),
            (("en", "fr"), 0.15),
            (("en", "zh"), 0.04),
            (("en", "pa"), 0.03),
        ),
        client_ethnicity=_CA_CLIENTS,
        therapist_ethnicity=_CA_THERAPISTS,
        low_bandwidth=0.10,
        faith="faith_christian",
    ),
}

PUBLIC_INSURERS = {"US": "medicaid"}
"""A public programme few therapists accept, with its share of insured clients."""
PUBLIC_INSURER_SHARE = 0.18

US_STATES: dict[str, tuple[int, float]] = {
    # state: (UTC offset, relative population)
    "US-CA": (-8, 39.0),
    "US-NY": (-5, 19.6),
    "US-TX": (-6, 30.0),
    "US-FL": (-5, 22.2),
    "US-IL": (-6, 12.5),
    "US-WA": (-8, 7.8),
    "US-PA": (-5, 13.0),
    "US-OH": (-5, 11.8),
    "US-GA": (-5, 11.0),
    "US-NC": (-5, 10.8),
    "US-MI": (-5, 10.0),
    "US-NJ": (-5, 9.3),
    "US-VA": (-5, 8.7),
    "US-AZ": (-7, 7.4),
    "US-TN": (-6, 7.1),
    "US-MA": (-5, 7.0),
    "US-IN": (-5, 6.9),
    "US-MO": (-6, 6.2),
    "US-MD": (-5, 6.2),
    "US-WI": (-6, 5.9),
    "US-CO": (-7, 5.9),
    "US-MN": (-6, 5.7),
    "US-SC": (-5, 5.4),
    "US-AL": (-6, 5.1),
    "US-LA": (-6, 4.6),
    "US-KY": (-5, 4.5),
    "US-OR": (-8, 4.2),
    "US-OK": (-6, 4.1),
    "US-CT": (-5, 3.6),
    "US-UT": (-7, 3.4),
    "US-IA": (-6, 3.2),
    "US-NV": (-8, 3.2),
    "US-AR": (-6, 3.1),
    "US-MS": (-6, 2.9),
    "US-KS": (-6, 2.9),
    "US-NM": (-7, 2.1),
    "US-NE": (-6, 2.0),
    "US-ID": (-7, 1.9),
    "US-WV": (-5, 1.8),
    "US-HI": (-10, 1.4),
    "US-NH": (-5, 1.4),
    "US-ME": (-5, 1.4),
    "US-MT": (-7, 1.1),
    "US-RI": (-5, 1.1),
    "US-DE": (-5, 1.0),
    "US-SD": (-6, 0.9),
    "US-ND": (-6, 0.8),
    "US-AK": (-9, 0.7),
    "US-DC": (-5, 0.7),
    "US-VT": (-5, 0.6),
    "US-WY": (-7, 0.6),
}
CA_PROVINCES: dict[str, tuple[int, float]] = {
    "CA-ON": (-5, 15.6),
    "CA-QC": (-5, 8.9),
    "CA-BC": (-8, 5.6),
    "CA-AB": (-7, 4.8),
}

DEFAULT_REGIONS: tuple[str, ...] = (
    "US-CA",
    "US-NY",
    "US-TX",
    "US-FL",
    "US-IL",
    "US-WA",
    "GB",
    "IN",
    "CA-ON",
)
ALL_REGIONS: tuple[str, ...] = (
    DEFAULT_REGIONS
    + tuple(s for s in US_STATES if s not in DEFAULT_REGIONS)
    + tuple(p for p in CA_PROVINCES if p not in DEFAULT_REGIONS)
)
"""Every jurisdiction the catalog knows, defaults first (``n_regions`` takes a prefix)."""


def region_country(region: str) -> str | None:
    """The country of a jurisdiction code, or None when the catalog does not know it."""
    if region in US_STATES:
        return "US"
    if region in CA_PROVINCES:
        return "CA"
    if region in COUNTRIES and COUNTRIES[region].client_subregions:
        return region
    return None


def region_offset(region: str) -> int:
    """UTC offset (hours) of a jurisdiction's local time."""
    if region in US_STATES:
        return US_STATES[region][0]
    if region in CA_PROVINCES:
        return CA_PROVINCES[region][0]
    return COUNTRIES[region].utc_offset


def region_weight(region: str) -> float:
    """Relative client demand of a jurisdiction."""
    if region in US_STATES:
        return US_STATES[region][1]
    if region in CA_PROVINCES:
        return CA_PROVINCES[region][1]
    return COUNTRIES[region].weight


ETHNICITIES: tuple[str, ...] = tuple(e.value for e in Ethnicity)

__all__ = [
    "ALL_REGIONS",
    "CA_PROVINCES",
    "COUNTRIES",
    "DEFAULT_REGIONS",
    "ETHNICITIES",
    "PUBLIC_INSURERS",
    "PUBLIC_INSURER_SHARE",
    "US_STATES",
    "Country",
    "region_country",
    "region_offset",
    "region_weight",
]
