"""Plain-language reasons for a match, ordered by each feature's contribution to the score.

Contributions are LightGBM SHAP values (``pred_contrib``) of the outcome model. A feature yields a
reason only when it pushes the score up and its value says something true about the pair; a
reason that speaks for a track record (:data:`COUNTED`) also needs enough observations behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from features.pipeline import FEATURE_NAMES, likely_format
from features.vocab import Approach, Concern, Cultural, Domain, Format, Gender

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bn": "Bengali",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "mr": "Marathi",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "ta": "Tamil",
    "te": "Telugu",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
    "asl": "ASL",
}
CULTURAL_PHRASES = {
    Cultural.LGBTQIA_AFFIRMING: "LGBTQIA+ affirming",
    Cultural.BIPOC_CENTERED: "BIPOC-centered care",
    Cultural.FAITH_CHRISTIAN: "Integrates Christian faith",
    Cultural.FAITH_MUSLIM: "Integrates Muslim faith",
    Cultural.FAITH_JEWISH: "Integrates Jewish faith",
    Cultural.FAITH_HINDU: "Integrates Hindu faith",
    Cultural.VETERANS_MILITARY: "Experienced with veterans and military families",
    Cultural.DISABILITY_AFFIRMING: "Disability affirming",
    Cultural.NEURODIVERGENT_AFFIRMING: "Neurodivergent affirming",
    Cultural.IMMIGRANT_REFUGEE: "Experienced with immigrant and refugee clients",
    Cultural.DEAF_HARD_OF_HEARING: "Experienced with Deaf and hard-of-hearing clients",
    Cultural.FIRST_RESPONDERS: "Experienced with first responders",
}
_CONCERNS, _APPROACHES, _CULTURAL = list(Concern), list(Approach), list(Cultural)
_GENDERS, _FORMATS, _DOMAINS = list(Gender), list(Format), list(Domain)
T = TypeVar("T")


class Facts:
    """What the phrase makers read about shown pairs ``(intake_idx[r], therapist_idx[r])``:
    each fact is computed for every row at once (vectorised, on first use) and kept as plain
    Python values, so a maker is string work only."""

    def __init__(
        self,
        batch: IntakeBatch,
        pool: TherapistPool,
        intake_idx: npt.NDArray[np.int64],
        therapist_idx: npt.NDArray[np.int64],
    ) -> None:
        self.batch, self.pool = batch, pool
        self.i, self.j = intake_idx, therapist_idx

    @cached_property
    def specialties(self) -> list[list[int]]:
        """The client's concern codes (most important first) the therapist specialises in."""
        codes = self.batch.concerns[self.i]
        spec = self.pool.specialties[self.j][:, None]
        hit = (((spec >> np.maximum(codes, 0).astype(np.uint64)) & np.uint64(1)) == 1) & (
            codes >= 0
        )
        return [
            [c for c, h in zip(row, hits, strict=True) if h]
            for row, hits in zip(codes.tolist(), hit.tolist(), strict=True)
        ]

    @cached_property
    def modalities(self) -> list[int]:
        """Preferred modalities the therapist uses (bit mask)."""
        return (self.batch.modality_pref[self.i] & self.pool.modalities[self.j]).tolist()

    @cached_property
    def cultural(self) -> list[int]:
        """Cultural preferences the therapist meets (bit mask)."""
        return (self.batch.cultural_pref[self.i] & self.pool.cultural[self.j]).tolist()

    @cached_property
    def gender(self) -> list[int]:
        """The therapist's gender code (−1 unknown)."""
        return self.pool.gender[self.j].tolist()

    @cached_property
    def languages(self) -> list[list[str]]:
        """Languages both speak, in vocabulary order."""
        vocab = self.pool.languages_vocab.values
        shared = self.batch.languages[self.i] & self.pool.languages[self.j]
        present = bitset.members(shared, len(vocab))
        return [[vocab[k] for k in np.flatnonzero(row).tolist()] for row in present]

    @cached_property
    def hours(self) -> list[int]:
        """Weekly hours both have free."""
        both = self.batch.availability[self.i] & self.pool.availability[self.j]
        return bitset.count(both).tolist()

    @cached_property
    def formats(self) -> list[int]:
        """The pair's likely format code (:func:`features.pipeline.likely_format`)."""
        return likely_format(self.batch, self.pool, Pairs(self.i, self.j)).tolist()

    @cached_property
    def domains(self) -> list[int]:
        """The client's primary concern domain code (−1 none)."""
        return self.batch.primary_domain[self.i].tolist()


Reason = Callable[[Facts, int, float], str | None]
"""A phrase maker: (facts, row, the feature's value) → the reason, or None when it says
nothing true about the pair."""


def _human(value: str) -> str:
    return value.replace("_", " ").replace("ptsd", "PTSD").replace("lgbtqia", "LGBTQIA+")


def _bits(mask: int, members: Sequence[T]) -> list[T]:
    return [m for k, m in enumerate(members) if (mask >> k) & 1]


def _specialty(f: Facts, r: int, v: float) -> str | None:
    matched = [_CONCERNS[c].value for c in f.specialties[r]]
    return f"Specializes in {', '.join(_human(c) for c in matched[:3])}" if matched else None


def _modality(f: Facts, r: int, v: float) -> str | None:
    shared = _bits(f.modalities[r], _APPROACHES)
    names = ", ".join(str(a).upper() if len(str(a)) <= 4 else _human(str(a)) for a in shared)
    return f"Uses {names}, as you asked" if shared else None


def _cultural(f: Facts, r: int, v: float) -> str | None:
    shared = _bits(f.cultural[r], _CULTURAL)
    return CULTURAL_PHRASES[shared[0]] if shared else None


def _gender(f: Facts, r: int, v: float) -> str | None:
    g = f.gender[r]
    return f"A {_GENDERS[g].value} therapist, as you preferred" if v == 1 and g >= 0 else None


def _preferences(f: Facts, r: int, v: float) -> str | None:
    return "Meets every preference you stated" if v == 1 else None


def _ethnicity(f: Facts, r: int, v: float) -> str | None:
    return "Shares your cultural background" if v == 1 else None


def _language(f: Facts, r: int, v: float) -> str | None:
    if v != 1:
        return None
    others = [c for c in f.languages[r] if c != "en"]
    return f"Speaks {LANGUAGE_NAMES.get(others[0], others[0])}" if others else None


def _low_bandwidth(f: Facts, r: int, v: float) -> str | None:
    return "Offers phone or chat sessions, which suit an unreliable connection" if v == 1 else None


def _in_person(f: Facts, r: int, v: float) -> str | None:
    return "Offers in-person sessions in your area" if v == 1 else None


def _availability(f: Facts, r: int, v: float) -> str | None:
    hours = f.hours[r]
    return f"Has {hours} open hours a week that fit your schedule" if hours else None


def _experience(f: Facts, r: int, v: float) -> str | None:
    return f"{int(v)} years of experience" if v >= 5 else None


def _track_record(f: Facts, r: int, v: float) -> str | None:
    d = f.domains[r]
    name = _DOMAINS[d].value.replace("_", " and ") if d >= 0 else "similar"
    return f"Strong track record with {name} concerns"


_FORMAT_PHRASE = {
    Format.VIDEO: "on video",
    Format.PHONE: "by phone",
    Format.CHAT: "in chat",
    Format.IN_PERSON: "in person",
}
MIN_ALLIANCE_RATINGS = 10
"""A per-format alliance reason needs at least this many ratings in that format."""


def _alliance(f: Facts, r: int, v: float) -> str | None:
    if not v > 0:
        return None
    fmt = f.formats[r]
    where = _FORMAT_PHRASE[_FORMATS[fmt]] if fmt >= 0 else ""
    return f"Clients rate their connection with this therapist highly {where}".rstrip()


def _text(f: Facts, r: int, v: float) -> str | None:
    return "Their profile speaks to what you described" if v > 0.2 else None


def _room(f: Facts, r: int, v: float) -> str | None:
    return "Has room for new clients now"


def _crisis(f: Facts, r: int, v: float) -> str | None:
    return "Trained in crisis support" if v == 1 else None


def _fee(f: Facts, r: int, v: float) -> str | None:
    return "Fee within your budget" if math.isfinite(v) and v <= 1 else None


REASONS: dict[str, Reason] = {
    "concern_fit": _specialty,
    "primary_concern_fit": _specialty,
    "concern_fit_severity": _specialty,
    "modality_fit": _modality,
    "cultural_fit": _cultural,
    "gender_fit": _gender,
    "preference_fit": _preferences,
    "ethnicity_fit": _ethnicity,
    "other_language_fit": _language,
    "low_bandwidth_fit": _low_bandwidth,
    "in_person_fit": _in_person,
    "severe_in_person": _in_person,
    "availability_overlap": _availability,
    "availability_share": _availability,
    "years_experience": _experience,
    "tr_domain": _track_record,
    "tr_concerns": _track_record,
    "tr_domain_lift": _track_record,
    "tr_overall": _track_record,
    "tr_alliance_format": _alliance,
    "text_similarity": _text,
    "load": _room,
    "open_slots": _room,
    "crisis_trained": _crisis,
    "fee_ratio": _fee,
}


COUNTED: dict[str, tuple[str, float]] = {
    "tr_alliance_format": ("tr_alliance_format_n", MIN_ALLIANCE_RATINGS),
}
"""Reasons that speak for a count: feature → (its ln(1 + n) count feature, the least n)."""
_GATE = {
    FEATURE_NAMES.index(name): (FEATURE_NAMES.index(count), float(np.log1p(least)))
    for name, (count, least) in COUNTED.items()
}


def _small(k: int, row: Sequence[float] | npt.NDArray[np.float32]) -> bool:
    """Whether feature ``k``'s reason rests on too few observations (see :data:`COUNTED`)."""
    gate = _GATE.get(k)
    return gate is not None and not float(row[gate[0]]) >= gate[1] - 1e-6


def reasons(
    batch: IntakeBatch,
    pool: TherapistPool,
    i: int,
    j: int,
    *,
    x: npt.NDArray[np.float32],
    contrib: npt.NDArray[np.float64],
    limit: int = 4,
) -> list[str]:
    """Distinct reasons for pair (i, j), strongest positive contribution first
    (:func:`reasons_batch` for one pair)."""
    one = np.array([i], dtype=np.int64), np.array([j], dtype=np.int64)
    return reasons_batch(batch, pool, *one, x=x[None, :], contrib=contrib[None, :], limit=limit)[0]


_EXPLAINED = np.array([k for k, name in enumerate(FEATURE_NAMES) if name in REASONS])
"""Columns with a phrase maker (the others never yield a reason, so they are not ranked)."""
_MAKERS = [REASONS[FEATURE_NAMES[k]] for k in _EXPLAINED]


def reasons_batch(
    batch: IntakeBatch,
    pool: TherapistPool,
    intake_idx: npt.NDArray[np.int64],
    therapist_idx: npt.NDArray[np.int64],
    *,
    x: npt.NDArray[np.float32],
    contrib: npt.NDArray[np.float64],
    limit: int = 4,
) -> list[list[str]]:
    """Reasons for many pairs at once: one sort of every row's contributions, the facts the
    makers read computed over all rows (:class:`Facts`), then only the phrase makers of each
    pair's strongest positive features run (at most a few per pair)."""
    if len(intake_idx) == 0:
        return []
    # Ranking only the columns that have a maker keeps their relative (stable) order.
    c = contrib[:, _EXPLAINED]
    order = np.argsort(-c, axis=1, kind="stable")
    ranked = np.take_along_axis(c, order, axis=1)
    positive = (ranked > 0).sum(axis=1).tolist()
    order_list = order.tolist()
    values = x.astype(np.float64).tolist()
    columns = _EXPLAINED.tolist()
    facts = Facts(batch, pool, intake_idx, therapist_idx)
    out: list[list[str]] = []
    for row in range(len(intake_idx)):
        found: list[str] = []
        for m in order_list[row][: positive[row]]:
            if len(found) >= limit:
                break
            k = columns[m]
            if k in _GATE and _small(k, values[row]):
                continue
            text = _MAKERS[m](facts, row, values[row][k])
            if text and text not in found:
                found.append(text)
        if not found:
            fallback = _specialty(facts, row, 0.0) or _availability(facts, row, 0.0)
            found = [fallback] if fallback else []
        out.append(found)
    return out


__all__ = [
    "COUNTED",
    "LANGUAGE_NAMES",
    "MIN_ALLIANCE_RATINGS",
    "REASONS",
    "Facts",
    "reasons",
    "reasons_batch",
]
