"""Typed tables → arrays the vectorised code works on.

:class:`TherapistPool` encodes a therapist table once (serving keeps it between requests);
:meth:`TherapistPool.encode_intakes` encodes intakes *against that pool*, so open vocabularies
(regions, languages, payers) share one index and a value no therapist has simply never matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from features import bitset
from features.bitset import Words
from features.vocab import (
    CONCERN_DOMAIN,
    HOURS_PER_WEEK,
    SELF_PAY,
    AgeGroup,
    Approach,
    Concern,
    Cultural,
    Domain,
    Ethnicity,
    Format,
    Gender,
    License,
)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

MAX_CONCERNS = 5
CONCERN_DOMAIN_CODE = np.array(
    [list(Domain).index(CONCERN_DOMAIN[c]) for c in Concern], dtype=np.int64
)
"""Domain code of each concern code."""


@dataclass(frozen=True)
class Vocabulary:
    """An open vocabulary (regions, languages, payers): value → dense code."""

    values: tuple[str, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {v: i for i, v in enumerate(self.values)})

    @classmethod
    def build(cls, values: Iterable[str]) -> Vocabulary:
        """The sorted distinct values."""
        return cls(tuple(sorted({str(v) for v in values})))

    def codes(self, values: pd.Series) -> I64:
        """Code of each value; −1 where unknown or missing."""
        return values.map(self.index).fillna(-1).to_numpy(dtype=np.int64)

    def __len__(self) -> int:
        return len(self.values)


def _exploded(column: pd.Series) -> tuple[I64, pd.Series]:
    flat = column.explode()
    rows = column.index.get_indexer(flat.index).astype(np.int64)
    keep = flat.notna().to_numpy()
    return rows[keep], flat[keep]


def enum_codes(column: pd.Series, enum: type[StrEnum]) -> I64:
    """Code (member position) of each scalar value; −1 where missing or unknown."""
    index = {m.value: i for i, m in enumerate(enum)}
    return column.map(index).fillna(-1).to_numpy(dtype=np.int64)


def enum_mask(column: pd.Series, enum: type[StrEnum]) -> npt.NDArray[np.uint64]:
    """A list column over a fixed vocabulary (≤64 values) as one uint64 bitmask per row."""
    return vocab_words(column, {m.value: i for i, m in enumerate(enum)}, len(enum))[:, 0]


def vocab_words(column: pd.Series, index: dict[str, int], width: int) -> Words:
    """A list column as packed words over ``index`` (values not in it are dropped)."""
    column = column.reset_index(drop=True)
    rows, flat = _exploded(column)
    items = flat.map(index).fillna(-1).to_numpy(dtype=np.int64)
    return bitset.pack(rows, items, len(column), width)


def hour_words(column: pd.Series) -> Words:
    """Availability lists as 3 packed words over the 168 hours of the week."""
    column = column.reset_index(drop=True)
    rows, flat = _exploded(column)
    return bitset.pack(rows, flat.to_numpy(dtype=np.int64), len(column), HOURS_PER_WEEK)


def _float(column: pd.Series) -> F32:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float32, na_value=np.nan)


def _bool(column: pd.Series, default: bool = False) -> B:
    return column.astype("boolean").fillna(default).to_numpy(dtype=bool)


def _text(column: pd.Series) -> list[str]:
    return column.astype(object).where(column.notna(), "").astype(str).tolist()


def country_of(regions: pd.Series) -> pd.Series:
    """The country part of ISO 3166-2 codes (``US-CA`` → ``US``; ``IN`` stays ``IN``)."""
    return regions.astype("string").str.split("-").str[0]


@dataclass(frozen=True, eq=False)
class TherapistPool:
    """A therapist table encoded for vectorised eligibility and features.

    Fixed-vocabulary sets are one uint64 mask per therapist (bit = enum position); open
    vocabularies are packed words over the pool's own :class:`Vocabulary`; availability is 3
    words over the 168 hours of the week. Missing numbers are NaN, missing categories −1.
    """

    frame: pd.DataFrame
    ids: npt.NDArray[np.object_]
    regions_vocab: Vocabulary
    languages_vocab: Vocabulary
    payers_vocab: Vocabulary
    regions: Words
    languages: Words
    payers: Words
    specialties: npt.NDArray[np.uint64]
    modalities: npt.NDArray[np.uint64]
    formats: npt.NDArray[np.uint64]
    cultural: npt.NDArray[np.uint64]
    age_groups: npt.NDArray[np.uint64]
    availability: Words
    license: I64
    gender: I64
    ethnicity: I64
    years: F32
    fee: F32
    max_caseload: F32
    current_caseload: F32
    accepting: B
    crisis_trained: B
    bios: list[str]
    index: dict[str, int] = field(repr=False)

    @classmethod
    def from_frame(cls, therapists: pd.DataFrame) -> TherapistPool:
        """Encode a typed therapists table (as :func:`features.dataset.load_dataset` gives)."""
        df = therapists.reset_index(drop=True)
        regions = Vocabulary.build(x for xs in df["licensed_regions"] for x in xs)
        languages = Vocabulary.build(x for xs in df["languages"] for x in xs)
        payers = Vocabulary.build(x for xs in df["payers_accepted"] for x in xs)
        ids = df["therapist_id"].to_numpy(dtype=object)
        return cls(
            frame=df,
            ids=ids,
            regions_vocab=regions,
            languages_vocab=languages,
            payers_vocab=payers,
            regions=vocab_words(df["licensed_regions"], regions.index, len(regions)),
            languages=vocab_words(df["languages"], languages.index, len(languages)),
            payers=vocab_words(df["payers_accepted"], payers.index, len(payers)),
            specialties=enum_mask(df["specialties"], Concern),
            modalities=enum_mask(df["modalities"], Approach),
            formats=enum_mask(df["formats"], Format),
            cultural=enum_mask(df["cultural_competencies"], Cultural),
            age_groups=enum_mask(df["age_groups_served"], AgeGroup),
            availability=hour_words(df["availability"]),
            license=enum_codes(df["license_type"], License),
            gender=enum_codes(df["gender"], Gender),
            ethnicity=enum_codes(df["ethnicity"], Ethnicity),
            years=_float(df["years_experience"]),
            fee=_float(df["session_fee"]),
            max_caseload=_float(df["max_caseload"]),
            current_caseload=_float(df["current_caseload"]),
            accepting=_bool(df["accepting_new_clients"]),
            crisis_trained=_bool(df["crisis_trained"]),
            bios=_text(df["bio"]),
            index={str(t): i for i, t in enumerate(ids)},
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def open_slots(self) -> F32:
        """max_caseload − current_caseload, floored at 0; 0 when not accepting new clients."""
        slots = np.maximum(self.max_caseload - self.current_caseload, 0)
        return np.where(self.accepting, np.nan_to_num(slots), 0).astype(np.float32)

    @property
    def load(self) -> F32:
        """current_caseload / max_caseload (1 when max_caseload is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.current_caseload / self.max_caseload
        return np.where(self.max_caseload > 0, ratio, 1.0).astype(np.float32)

    def positions(self, therapist_ids: Sequence[str]) -> I64:
        """Row of each therapist id in the pool (−1 where unknown)."""
        return np.array([self.index.get(str(t), -1) for t in therapist_ids], dtype=np.int64)

    def encode_intakes(self, intakes: pd.DataFrame) -> IntakeBatch:
        """Encode typed intakes against this pool's vocabularies."""
        return IntakeBatch.encode(intakes, self)


@dataclass(frozen=True, eq=False)
class IntakeBatch:
    """Intakes encoded against one :class:`TherapistPool` (see there for the conventions).

    ``concerns`` is ``(n, 5)`` concern codes, most important first, padded with −1.
    """

    frame: pd.DataFrame
    ids: npt.NDArray[np.object_]
    age_group: I64
    region: I64
    country: I64
    concerns: I64
    concern_mask: npt.NDArray[np.uint64]
    phq9: F32
    gad7: F32
    item9: F32
    crisis_now: B
    formats: npt.NDArray[np.uint64]
    languages: Words
    gender_pref: npt.NDArray[np.uint64]
    cultural_pref: npt.NDArray[np.uint64]
    modality_pref: npt.NDArray[np.uint64]
    client_gender: I64
    client_ethnicity: I64
    same_ethnicity: B
    availability: Words
    payment: I64
    self_pay: B
    max_fee: F32
    low_bandwidth: B
    free_text: list[str]

    @classmethod
    def encode(cls, intakes: pd.DataFrame, pool: TherapistPool) -> IntakeBatch:
        """Encode typed intakes against ``pool``."""
        df = intakes.reset_index(drop=True)
        concern_index = {m.value: i for i, m in enumerate(Concern)}
        rows, flat = _exploded(df["concerns"])
        order = flat.groupby(rows).cumcount().to_numpy()
        keep = order < MAX_CONCERNS
        concerns = np.full((len(df), MAX_CONCERNS), -1, dtype=np.int64)
        concerns[rows[keep], order[keep]] = (
            flat[keep].map(concern_index).fillna(-1).to_numpy(dtype=np.int64)
        )
        region = df["region"].astype("string")
        payment = df["payment"].astype("string")
        return cls(
            frame=df,
            ids=df["intake_id"].to_numpy(dtype=object),
            age_group=enum_codes(df["age_group"], AgeGroup),
            region=pool.regions_vocab.codes(region),
            country=pool.regions_vocab.codes(country_of(region)),
            concerns=concerns,
            concern_mask=enum_mask(df["concerns"], Concern),
            phq9=_float(df["phq9"]),
            gad7=_float(df["gad7"]),
            item9=_float(df["phq9_item9"]),
            crisis_now=_bool(df["crisis_now"]),
            formats=enum_mask(df["preferred_formats"], Format),
            languages=vocab_words(
                df["languages"], pool.languages_vocab.index, len(pool.languages_vocab)
            ),
            gender_pref=enum_mask(df["preferred_therapist_genders"], Gender),
            cultural_pref=enum_mask(df["cultural_preferences"], Cultural),
            modality_pref=enum_mask(df["preferred_modalities"], Approach),
            client_gender=enum_codes(df["client_gender"], Gender),
            client_ethnicity=enum_codes(df["client_ethnicity"], Ethnicity),
            same_ethnicity=_bool(df["prefers_same_ethnicity"]),
            availability=hour_words(df["availability"]),
            payment=pool.payers_vocab.codes(payment),
            self_pay=(payment == SELF_PAY).fillna(False).to_numpy(dtype=bool),
            max_fee=_float(df["max_session_fee"]),
            low_bandwidth=_bool(df["low_bandwidth"]),
            free_text=_text(df["free_text"]),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def severity(self) -> F32:
        """Symptom severity in [0, 1]: max(phq9/27, gad7/21); NaN when neither is known."""
        with np.errstate(invalid="ignore"):
            sev = np.fmax(self.phq9 / 27.0, self.gad7 / 21.0)
        return sev.astype(np.float32)

    @property
    def severe(self) -> B:
        """phq9 ≥ 20 or gad7 ≥ 15 (SPEC §3)."""
        return (np.nan_to_num(self.phq9) >= 20) | (np.nan_to_num(self.gad7) >= 15)

    @property
    def primary_domain(self) -> I64:
        """Domain code of the most important concern (−1 if none)."""
        first = self.concerns[:, 0]
        return np.where(first >= 0, CONCERN_DOMAIN_CODE[np.maximum(first, 0)], -1)


@dataclass(frozen=True)
class Pairs:
    """Candidate (intake, therapist) pairs as row positions into a batch and a pool."""

    intake_idx: I64
    therapist_idx: I64

    def __len__(self) -> int:
        return len(self.intake_idx)

    @classmethod
    def cross(cls, n_intakes: int, n_therapists: int) -> Pairs:
        """Every intake with every therapist."""
        return cls(
            np.repeat(np.arange(n_intakes, dtype=np.int64), n_therapists),
            np.tile(np.arange(n_therapists, dtype=np.int64), n_intakes),
        )

    def take(self, keep: npt.NDArray[np.bool_] | I64) -> Pairs:
        """The subset selected by a mask or index array."""
        return Pairs(self.intake_idx[keep], self.therapist_idx[keep])


__all__ = [
    "CONCERN_DOMAIN_CODE",
    "MAX_CONCERNS",
    "IntakeBatch",
    "Pairs",
    "TherapistPool",
    "Vocabulary",
    "country_of",
    "enum_codes",
    "enum_mask",
    "hour_words",
    "vocab_words",
]
