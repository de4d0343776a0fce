"""Typed tables → arrays the vectorised code works on.

:class:`TherapistPool` encodes a therapist table once (serving keeps it between requests);
:meth:`TherapistPool.encode_intakes` encodes intakes *against that pool*, so open vocabularies
(regions, languages, payers) share one index and a value no therapist has simply never matches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.ids import positions
from features import bitset
from features.bitset import Words
from features.pool_merge import PoolMerge
from features.schemas import INTAKES, THERAPISTS
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
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]
ArrayT = TypeVar("ArrayT", bound=npt.NDArray[Any])

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

    def codes(self, values: Sequence[str]) -> I64:
        """Code of each value; −1 where unknown or missing."""
        return np.fromiter(
            (self.index.get(v, -1) for v in values), dtype=np.int64, count=len(values)
        )

    def __len__(self) -> int:
        return len(self.values)


Cells = Sequence[Any]
Rows: TypeAlias = pd.DataFrame | Sequence[Mapping[str, Any]]
"""A typed table, or its rows as records (JSON-like dicts; lists stay lists)."""


def columns(rows: Rows, names: Sequence[str]) -> dict[str, list[Any]]:
    """Column name → list of cells for ``names``, from a typed frame or from records.

    A column the frame lacks, or a key a record lacks, reads as missing (None).
    """
    if isinstance(rows, pd.DataFrame):
        n = len(rows)
        return {c: rows[c].tolist() if c in rows.columns else [None] * n for c in names}
    return {c: [r.get(c) for r in rows] for c in names}


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


@cache
def _index(enum: type[StrEnum]) -> dict[str, int]:
    """Value → member position of a fixed vocabulary (built once per enum; do not mutate)."""
    return {m.value: i for i, m in enumerate(enum)}


def enum_codes(cells: Cells, enum: type[StrEnum]) -> I64:
    """Code (member position) of each scalar value; −1 where missing or unknown."""
    index = _index(enum)
    return np.fromiter((index.get(v, -1) for v in cells), dtype=np.int64, count=len(cells))


def vocab_words(cells: Cells, index: dict[str, int], width: int) -> Words:
    """List cells as packed words over ``index`` (values not in it are dropped)."""
    lists = [xs if isinstance(xs, (list, tuple, np.ndarray)) else [] for xs in cells]
    rows = np.repeat(np.arange(len(lists)), [len(xs) for xs in lists]).astype(np.int64)
    items = np.fromiter((index.get(x, -1) for xs in lists for x in xs), dtype=np.int64)
    return bitset.pack(rows, items, len(lists), width)


def enum_mask(cells: Cells, enum: type[StrEnum]) -> npt.NDArray[np.uint64]:
    """List cells over a fixed vocabulary (≤64 values) as one uint64 bitmask per row (bit k =
    member k; unknown values and non-list cells set nothing). Each row's mask is an integer OR
    of its few members: no dense matrix to pack."""
    bits = _bits(enum)
    return np.array(
        [_or_bits(bits, xs) if isinstance(xs, (list, tuple, np.ndarray)) else 0 for xs in cells],
        dtype=np.uint64,
    ).reshape(len(cells))


@cache
def _bits(enum: type[StrEnum]) -> dict[str, int]:
    """Value → its bit (1 << member position) for the first 64 members of ``enum``."""
    return {value: 1 << k for value, k in _index(enum).items() if k < 64}


def _or_bits(bits: dict[str, int], values: Iterable[Any]) -> int:
    mask = 0
    for value in values:
        mask |= bits.get(value, 0)
    return mask


def hour_words(cells: Cells) -> Words:
    """Availability lists as 3 packed words over the 168 hours of the week."""
    lists = [xs if isinstance(xs, (list, tuple, np.ndarray)) else [] for xs in cells]
    rows = np.repeat(np.arange(len(lists)), [len(xs) for xs in lists]).astype(np.int64)
    items = np.fromiter((int(x) for xs in lists for x in xs), dtype=np.int64)
    return bitset.pack(rows, items, len(lists), HOURS_PER_WEEK)


def _float(cells: Cells, dtype: type[np.floating[Any]] = np.float32) -> npt.NDArray[Any]:
    return np.fromiter(
        (np.nan if _missing(v) else float(v) for v in cells), dtype=dtype, count=len(cells)
    )


def _exact(cells: Cells) -> F64:
    """Values a hard rule compares (fee ≤ cap, current < max caseload), in float64: float32
    would round a fee a cent above a 1,000,000 cap, or caseloads beyond 2²⁴, to equality."""
    return _float(cells, np.float64)


def _bool(cells: Cells, default: bool = False) -> B:
    return np.fromiter(
        (default if _missing(v) else bool(v) for v in cells), dtype=bool, count=len(cells)
    )


def _text(cells: Cells) -> list[str]:
    return ["" if _missing(v) else str(v) for v in cells]


def _frozen(values: ArrayT) -> ArrayT:
    """``values`` made read-only (a cached table shared by every request)."""
    values.setflags(write=False)
    return values


def _ranged(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed 0..n−1 (as :meth:`TherapistPool.from_frame` keeps it)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1:
        return frame
    return frame.reset_index(drop=True)


def _recode(words: Words, source: Vocabulary, target: Vocabulary) -> Words:
    """Packed words over ``source`` codes → the same sets over ``target`` codes."""
    rows, codes = np.nonzero(bitset.members(words, len(source)))
    moved = target.codes(list(source.values))[codes] if len(codes) else codes
    return bitset.pack(rows.astype(np.int64), moved.astype(np.int64), len(words), len(target))


def _merged_words(
    old: Vocabulary, kept: Words, new: Vocabulary, added: Words
) -> tuple[Vocabulary, tuple[Words, Words]]:
    """The vocabulary of the kept and the added rows together (exactly
    :meth:`Vocabulary.build` of their values) and both word arrays over it."""
    used = np.bitwise_or.reduce(kept, axis=0) if len(kept) else np.zeros(kept.shape[1:], np.uint64)
    present = bitset.members(used[None, :], len(old))[0]
    still = [v for v, keep in zip(old.values, present.tolist(), strict=True) if keep]
    vocab = Vocabulary.build([*still, *new.values])
    return vocab, (
        kept if vocab.values == old.values else _recode(kept, old, vocab),
        added if vocab.values == new.values else _recode(added, new, vocab),
    )


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
    fee: F64
    max_caseload: F64
    current_caseload: F64
    accepting: B
    crisis_trained: B
    bios: list[str]
    index: dict[str, int] = field(repr=False)

    @classmethod
    def from_frame(cls, therapists: pd.DataFrame) -> TherapistPool:
        """Encode a typed therapists table (as :func:`features.dataset.load_dataset` gives)."""
        df = _ranged(therapists)
        col = columns(df, THERAPISTS.names)
        regions = Vocabulary.build(x for xs in col["licensed_regions"] for x in xs)
        languages = Vocabulary.build(x for xs in col["languages"] for x in xs)
        payers = Vocabulary.build(x for xs in col["payers_accepted"] for x in xs)
        ids = np.array(col["therapist_id"], dtype=object)
        return cls(
            frame=df,
            ids=ids,
            regions_vocab=regions,
            languages_vocab=languages,
            payers_vocab=payers,
            regions=vocab_words(col["licensed_regions"], regions.index, len(regions)),
            languages=vocab_words(col["languages"], languages.index, len(languages)),
            payers=vocab_words(col["payers_accepted"], payers.index, len(payers)),
            specialties=enum_mask(col["specialties"], Concern),
            modalities=enum_mask(col["modalities"], Approach),
            formats=enum_mask(col["formats"], Format),
            cultural=enum_mask(col["cultural_competencies"], Cultural),
            age_groups=enum_mask(col["age_groups_served"], AgeGroup),
            availability=hour_words(col["availability"]),
            license=enum_codes(col["license_type"], License),
            gender=enum_codes(col["gender"], Gender),
            ethnicity=enum_codes(col["ethnicity"], Ethnicity),
            years=_float(col["years_experience"]),
            fee=_exact(col["session_fee"]),
            max_caseload=_exact(col["max_caseload"]),
            current_caseload=_exact(col["current_caseload"]),
            accepting=_bool(col["accepting_new_clients"]),
            crisis_trained=_bool(col["crisis_trained"]),
            bios=_text(col["bio"]),
            index={str(t): i for i, t in enumerate(ids)},
        )

    def updated(
        self,
        upserted: pd.DataFrame | None,
        removed: Sequence[str] = (),
        *,
        merge: PoolMerge | None = None,
        frame: pd.DataFrame | None = None,
    ) -> TherapistPool:
        """This pool with the ``upserted`` profiles (a typed frame) added or replaced and the
        ``removed`` ids taken out, ordered by id: field for field the pool
        ``from_frame(merged_pool(self.frame, upserted, removed))`` encodes, but only the
        upserted rows are encoded; the rest are array copies through one :class:`PoolMerge`
        (``merge``: that plan, when the caller made it to update arrays of its own; ``frame``:
        the merged frame, when the caller has it already).

        An open vocabulary keeps its codes unless a value arrives or its last therapist
        leaves; then the packed words are recoded to the new codes (vectorised).
        """
        new = TherapistPool.from_frame(self.frame.iloc[:0] if upserted is None else upserted)
        if merge is None:
            merge = PoolMerge.plan(self.ids, new.ids, removed, index=self.index)
        values: dict[str, Any] = {}
        for name in ("regions", "languages", "payers"):
            vocab, words = _merged_words(
                getattr(self, f"{name}_vocab"),
                getattr(self, name)[merge.kept],
                getattr(new, f"{name}_vocab"),
                getattr(new, name),
            )
            values[f"{name}_vocab"], values[name] = vocab, merge.take(*words)
        for f in fields(self):
            if f.name in values or f.name in ("frame", "bios", "index"):
                continue
            values[f.name] = merge.rows(getattr(self, f.name), getattr(new, f.name))
        bios = merge.rows(np.array(self.bios, dtype=object), np.array(new.bios, dtype=object))
        return TherapistPool(
            frame=merge.frame(self.frame, upserted) if frame is None else _ranged(frame),
            bios=bios.tolist(),
            index=dict(zip(values["ids"].tolist(), range(len(merge)), strict=True)),
            **values,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def open_slots(self) -> F32:
        """max_caseload − current_caseload, floored at 0; 0 when not accepting new clients
        (computed once per pool, read-only)."""
        slots = np.maximum(self.max_caseload - self.current_caseload, 0)
        return _frozen(np.where(self.accepting, np.nan_to_num(slots), 0).astype(np.float32))

    @cached_property
    def load(self) -> F32:
        """current_caseload / max_caseload (1 when max_caseload is 0; once per pool, read-only)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.current_caseload / self.max_caseload
        return _frozen(np.where(self.max_caseload > 0, ratio, 1.0).astype(np.float32))

    def positions(self, therapist_ids: Sequence[str]) -> I64:
        """Row of each therapist id in the pool (−1 where unknown)."""
        return np.array([self.index.get(str(t), -1) for t in therapist_ids], dtype=np.int64)

    def encode_intakes(self, intakes: Rows) -> IntakeBatch:
        """Encode typed intakes (a frame or records) against this pool's vocabularies."""
        return IntakeBatch.encode(intakes, self)


_NOT_ENCODED = frozenset({"client_id", "submitted_at"})
"""Intake fields matching never reads (the client's identity, the submission time)."""


@dataclass(frozen=True, eq=False)
class IntakeBatch:
    """Intakes encoded against one :class:`TherapistPool` (see there for the conventions).

    ``concerns`` is ``(n, 5)`` concern codes, most important first, padded with −1.
    """

    ids: npt.NDArray[np.object_]
    regions: list[str]
    """The client regions as given (for crisis resources)."""
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
    max_fee: F64
    low_bandwidth: B
    free_text: list[str]

    @classmethod
    def encode(cls, intakes: Rows, pool: TherapistPool) -> IntakeBatch:
        """Encode typed intakes (a frame or records) against ``pool``."""
        col = columns(intakes, [c for c in INTAKES.names if c not in _NOT_ENCODED])
        concern_index = _index(Concern)
        concerns = np.full((len(intakes), MAX_CONCERNS), -1, dtype=np.int64)
        for r, xs in enumerate(col["concerns"]):
            codes = [concern_index.get(x, -1) for x in (xs or [])[:MAX_CONCERNS]]
            concerns[r, : len(codes)] = codes
        region = ["" if _missing(v) else str(v).strip() for v in col["region"]]
        payment = ["" if _missing(v) else str(v) for v in col["payment"]]
        return cls(
            ids=np.array(col["intake_id"], dtype=object),
            regions=region,
            age_group=enum_codes(col["age_group"], AgeGroup),
            region=pool.regions_vocab.codes(region),
            country=pool.regions_vocab.codes([r.split("-")[0] for r in region]),
            concerns=concerns,
            concern_mask=enum_mask(col["concerns"], Concern),
            phq9=_float(col["phq9"]),
            gad7=_float(col["gad7"]),
            item9=_float(col["phq9_item9"]),
            crisis_now=_bool(col["crisis_now"]),
            formats=enum_mask(col["preferred_formats"], Format),
            languages=vocab_words(
                col["languages"], pool.languages_vocab.index, len(pool.languages_vocab)
            ),
            gender_pref=enum_mask(col["preferred_therapist_genders"], Gender),
            cultural_pref=enum_mask(col["cultural_preferences"], Cultural),
            modality_pref=enum_mask(col["preferred_modalities"], Approach),
            client_gender=enum_codes(col["client_gender"], Gender),
            client_ethnicity=enum_codes(col["client_ethnicity"], Ethnicity),
            same_ethnicity=_bool(col["prefers_same_ethnicity"]),
            availability=hour_words(col["availability"]),
            payment=pool.payers_vocab.codes(payment),
            self_pay=np.array([p == SELF_PAY for p in payment], dtype=bool),
            max_fee=_exact(col["max_session_fee"]),
            low_bandwidth=_bool(col["low_bandwidth"]),
            free_text=_text(col["free_text"]),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: npt.NDArray[np.bool_] | I64) -> IntakeBatch:
        """The intakes at ``rows`` (a mask or positions), in that order."""
        picked = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        values: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            values[f.name] = (
                [value[k] for k in picked] if isinstance(value, list) else value[picked]
            )
        return IntakeBatch(**values)

    def rows_of(self, intake_ids: Sequence[Any]) -> I64:
        """Row of each intake id in this batch (−1 where absent)."""
        return positions(self.ids, intake_ids)

    @cached_property
    def severity(self) -> F32:
        """Symptom severity in [0, 1]: max(phq9/27, gad7/21); NaN when neither is known."""
        with np.errstate(invalid="ignore"):
            sev = np.fmax(self.phq9 / 27.0, self.gad7 / 21.0)
        return _frozen(sev.astype(np.float32))

    @cached_property
    def severe(self) -> B:
        """phq9 ≥ 20 or gad7 ≥ 15 (SPEC §3)."""
        return _frozen((np.nan_to_num(self.phq9) >= 20) | (np.nan_to_num(self.gad7) >= 15))

    @cached_property
    def primary_domain(self) -> I64:
        """Domain code of the most important concern (−1 if none)."""
        first = self.concerns[:, 0]
        return _frozen(np.where(first >= 0, CONCERN_DOMAIN_CODE[np.maximum(first, 0)], -1))


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

    @classmethod
    def of_interactions(
        cls, interactions: pd.DataFrame, batch: IntakeBatch, pool: TherapistPool
    ) -> Pairs:
        """Each interaction row as (its intake's row in ``batch``, its therapist's row in
        ``pool``); −1 where the id is absent."""
        return cls(
            batch.rows_of(interactions["intake_id"]),
            positions(pool.ids, interactions["therapist_id"]),
        )


__all__ = [
    "CONCERN_DOMAIN_CODE",
    "MAX_CONCERNS",
    "IntakeBatch",
    "Pairs",
    "Rows",
    "TherapistPool",
    "Vocabulary",
    "columns",
    "enum_codes",
    "enum_mask",
    "hour_words",
    "vocab_words",
]
