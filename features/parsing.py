"""Turn raw table cells (CSV text or Parquet values) into typed columns, vectorised.

Cells that cannot be parsed become missing and are reported as :class:`~core.errors.Problem`
rows; range, vocabulary and key checks happen afterwards in :mod:`features.validation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.errors import Problem
from features.codes import CodeSet, normalise
from features.schemas import Column, Kind, Table

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _blank(raw: pd.Series) -> pd.Series:
    """True where a cell is missing: NA, or a string of only white space."""
    as_text = raw.astype("string")
    return raw.isna() | as_text.str.strip().eq("").fillna(True)


def _problems(
    file: str, column: str, rows: np.ndarray, raw: pd.Series, message: str
) -> list[Problem]:
    return [Problem(file, int(i) + 1, column, str(raw.iloc[int(i)]), message) for i in rows[:1000]]


def _split_list(raw: pd.Series, blank: pd.Series) -> pd.Series:
    """Cells as Python lists: native sequences kept, ``;``-joined strings split, blanks → []."""

    def one(cell: Any) -> list[Any]:
        if isinstance(cell, str):
            return [part.strip() for part in cell.split(";") if part.strip()]
        if isinstance(cell, (list, tuple, np.ndarray)):
            return [x.strip() if isinstance(x, str) else x for x in cell]
        return [cell]

    out = pd.Series([[] for _ in range(len(raw))], index=raw.index, dtype=object)
    filled = ~blank.to_numpy()
    if filled.any():
        out[filled] = [one(c) for c in raw[filled]]
    return out


def parse_column(file: str, col: Column, raw: pd.Series) -> tuple[pd.Series, list[Problem]]:
    """Parse one raw column to ``col.kind``; returns the typed column and the cells it rejected."""
    blank = _blank(raw)
    problems: list[Problem] = []
    if col.kind is Kind.STR:
        out = raw.astype("string").str.strip().where(~blank)
        if col.codes is not None:
            out = out.str.upper() if col.codes is CodeSet.REGION else out.str.lower()
        return out.astype(object).where(~blank, None), problems
    if col.kind in (Kind.INT, Kind.FLOAT):
        num = pd.to_numeric(raw.where(~blank), errors="coerce")
        bad = (~blank & num.isna()).to_numpy()
        if col.kind is Kind.INT:
            frac = (num.notna() & (num != np.floor(num.fillna(0)))).to_numpy()
            bad |= frac
            problems += _problems(file, col.name, np.flatnonzero(bad), raw, "not a whole number")
            return num.where(~bad).astype("Int64"), problems
        problems += _problems(file, col.name, np.flatnonzero(bad), raw, "not a number")
        return num.where(~bad).astype("Float64"), problems
    if col.kind is Kind.BOOL:
        if pd.api.types.is_bool_dtype(raw.dtype):
            return raw.astype("boolean"), problems
        text = raw.astype("string").str.strip().str.lower()
        is_true, is_false = text.isin(_TRUE), text.isin(_FALSE)
        bad = (~blank & ~is_true & ~is_false).to_numpy()
        problems += _problems(file, col.name, np.flatnonzero(bad), raw, "not true/false")
        out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        out[is_true.fillna(False).to_numpy()] = True
        out[is_false.fillna(False).to_numpy()] = False
        return out, problems
    if col.kind is Kind.DATETIME:
        stamps = pd.to_datetime(raw.where(~blank), errors="coerce", utc=True, format="ISO8601")
        bad = (~blank & stamps.isna()).to_numpy()
        problems += _problems(file, col.name, np.flatnonzero(bad), raw, "not an ISO-8601 time")
        return stamps, problems
    lists = _split_list(raw, blank)
    if col.kind is Kind.LIST_STR:
        if col.codes is not None:
            codes = col.codes
            return lists.map(lambda xs: [normalise(codes, str(x)) for x in xs]), problems
        return lists.map(lambda xs: [str(x) for x in xs]), problems
    flat = lists.explode()
    nums = pd.to_numeric(flat, errors="coerce")
    bad_items = flat.notna() & (nums.isna() | (nums != np.floor(nums.fillna(0))))
    bad_rows = np.unique(np.asarray(bad_items[bad_items].index))
    positions = raw.index.get_indexer(bad_rows)
    problems += _problems(file, col.name, positions, raw, "not a list of whole numbers")
    good = nums.where(~bad_items).dropna().astype(np.int64)
    grouped = good.groupby(level=0).agg(list)
    out = pd.Series([[] for _ in range(len(raw))], index=raw.index, dtype=object)
    out.loc[grouped.index] = grouped
    return out, problems


def parse_table(
    file: str, table: Table, raw: pd.DataFrame
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Parse every contract column present in ``raw``.

    Returns the typed frame (contract columns in contract order, absent optional columns filled
    with missing values), the problems found, and the unknown column names (to warn about).
    """
    raw = raw.reset_index(drop=True)
    problems: list[Problem] = []
    data: dict[str, pd.Series] = {}
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                problems.append(Problem(file, None, col.name, None, "required column is missing"))
            data[col.name] = _missing(col, len(raw))
            continue
        data[col.name], found = parse_column(file, col, raw[col.name])
        problems += found
    unknown = [c for c in raw.columns if c not in set(table.names)]
    return pd.DataFrame(data, index=raw.index), problems, unknown


def _missing(col: Column, n: int) -> pd.Series:
    if col.kind.is_list:
        return pd.Series([[] for _ in range(n)], dtype=object)
    dtype = {
        Kind.INT: "Int64",
        Kind.FLOAT: "Float64",
        Kind.BOOL: "boolean",
        Kind.DATETIME: "datetime64[ns, UTC]",
    }.get(col.kind, object)
    return pd.Series([None] * n, dtype=dtype)


def records_frame(table: Table, records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A raw frame from JSON-like records (lists stay native), ready for :func:`parse_table`."""
    return pd.DataFrame.from_records(list(records), columns=None if records else table.names)


__all__ = ["parse_column", "parse_table", "records_frame"]
