"""Which stated client preferences a shown therapist meets (what the frames let us check).

Dimensions, each checked only for clients who stated it:

* ``gender``: therapist gender ∈ ``preferred_therapist_genders``;
* ``modality``: ``modalities`` ∩ ``preferred_modalities`` ≠ ∅;
* ``cultural``: ``cultural_competencies`` ⊇ ``cultural_preferences`` (every wanted competency);
* ``ethnicity``: with ``prefers_same_ethnicity``, therapist ethnicity = client ethnicity;
* ``format``: with ``low_bandwidth``, the therapist offers phone or chat.

Languages, formats accepted, payment, region and hours are hard constraints, met by every
therapist shown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.encoding import enum_codes, enum_mask
from features.vocab import Approach, Cultural, Ethnicity, Format, Gender

U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]
DIMENSIONS = ("gender", "modality", "cultural", "ethnicity", "format")
_LOW_BANDWIDTH_FORMATS = np.uint64(
    (1 << list(Format).index(Format.PHONE)) | (1 << list(Format).index(Format.CHAT))
)


def _at(values: npt.NDArray[np.generic], rows: npt.NDArray[np.int64], fill: object) -> npt.NDArray:
    """``values[rows]`` with −1 (unknown row) mapped to ``fill``."""
    padded = np.append(values, np.asarray([fill], dtype=values.dtype))
    return padded[np.where(rows >= 0, rows, len(values))]


def _bit(codes: npt.NDArray[np.int64]) -> U64:
    """One-hot uint64 of a code (0 where the code is −1)."""
    safe = np.where(codes >= 0, codes, 0).astype(np.uint64)
    return np.where(codes >= 0, np.left_shift(np.uint64(1), safe), np.uint64(0)).astype(np.uint64)


def _flag(frame: pd.DataFrame, column: str) -> B:
    return frame[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def preference_checks(
    shown: pd.DataFrame, intakes: pd.DataFrame, therapists: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stated preferences per intake and whether each shown row meets them.

    ``shown`` holds (intake_id, therapist_id) rows; ``intakes``/``therapists`` are the typed
    tables. Returns ``(stated, met)``: ``stated`` is a bool frame (index = intakes.index, one
    column per checkable dimension), ``met`` a bool frame aligned with ``shown``. Dimensions
    whose columns are missing are left out.
    """
    ii = pd.Index(intakes["intake_id"].astype(str)).get_indexer(shown["intake_id"].astype(str))
    tt = pd.Index(therapists["therapist_id"].astype(str)).get_indexer(
        shown["therapist_id"].astype(str)
    )
    stated: dict[str, B] = {}
    met: dict[str, B] = {}

    def has(frame: pd.DataFrame, *cols: str) -> bool:
        return all(c in frame.columns for c in cols)

    if has(intakes, "preferred_therapist_genders") and has(therapists, "gender"):
        wanted = enum_mask(intakes["preferred_therapist_genders"].tolist(), Gender)
        stated["gender"] = wanted != 0
        bit = _bit(enum_codes(therapists["gender"].tolist(), Gender))
        met["gender"] = (_at(wanted, ii, 0) & _at(bit, tt, 0)) != 0
    if has(intakes, "preferred_modalities") and has(therapists, "modalities"):
        wanted = enum_mask(intakes["preferred_modalities"].tolist(), Approach)
        stated["modality"] = wanted != 0
        offered = enum_mask(therapists["modalities"].tolist(), Approach)
        met["modality"] = (_at(wanted, ii, 0) & _at(offered, tt, 0)) != 0
    if has(intakes, "cultural_preferences") and has(therapists, "cultural_competencies"):
        wanted = enum_mask(intakes["cultural_preferences"].tolist(), Cultural)
        stated["cultural"] = wanted != 0
        offered = enum_mask(therapists["cultural_competencies"].tolist(), Cultural)
        want_rows = _at(wanted, ii, 0)
        met["cultural"] = (want_rows & _at(offered, tt, 0)) == want_rows
    if has(intakes, "prefers_same_ethnicity", "client_ethnicity") and has(therapists, "ethnicity"):
        client = enum_codes(intakes["client_ethnicity"].tolist(), Ethnicity)
        undisclosed = list(Ethnicity).index(Ethnicity.UNDISCLOSED)
        stated["ethnicity"] = (
            _flag(intakes, "prefers_same_ethnicity") & (client >= 0) & (client != undisclosed)
        )
        own = enum_codes(therapists["ethnicity"].tolist(), Ethnicity)
        met["ethnicity"] = (_at(client, ii, -1) == _at(own, tt, -2)) & (_at(client, ii, -1) >= 0)
    if has(intakes, "low_bandwidth") and has(therapists, "formats"):
        stated["format"] = _flag(intakes, "low_bandwidth")
        offered = enum_mask(therapists["formats"].tolist(), Format)
        met["format"] = (_at(offered, tt, 0) & _LOW_BANDWIDTH_FORMATS) != 0
    return (
        pd.DataFrame(stated, index=intakes.index, dtype=bool),
        pd.DataFrame(met, index=shown.index, dtype=bool),
    )


__all__ = ["DIMENSIONS", "preference_checks"]
