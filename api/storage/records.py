"""Typed contract frames ⇄ plain row dicts (the shapes the database and JSON speak)."""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from features.dataset import parse_and_check
from features.parsing import records_frame
from features.schemas import Column, Kind, Table


def plain(value: Any) -> Any:
    """A JSON/DB-ready Python value: NA → None, numpy scalars → Python, lists element-wise."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plain_features(values: Mapping[str, Any]) -> dict[str, Any]:
    """Feature values as stored: plain floats, None where missing or not finite (the engine's
    values are Python floats already, so one finiteness test per value is all it costs)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if type(value) is float:
            out[str(name)] = value if math.isfinite(value) else None
        else:
            out[str(name)] = plain(value)
    return out


def frame_records(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """The rows of a typed contract frame as dicts of plain values (lists stay lists)."""
    columns = [c for c in table.columns if c.name in frame.columns]
    out: list[dict[str, Any]] = []
    for row in frame[[c.name for c in columns]].itertuples(index=False, name=None):
        record: dict[str, Any] = {}
        for col, value in zip(columns, row, strict=True):
            cell = plain(value)
            if col.kind.is_list and cell is None:
                cell = []
            record[col.name] = cell
        out.append(record)
    return out


def _raw(record: Mapping[str, Any], table: Table) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for col in table.columns:
        value = record.get(col.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif col.kind.is_list and value is None:
            value = []
        raw[col.name] = value
    return raw


def typed_frame(table: Table, records: Iterable[Mapping[str, Any]], *, file: str) -> pd.DataFrame:
    """Records (as stored or as sent) → the typed contract frame; raises DataValidationError."""
    rows: Sequence[dict[str, Any]] = [_raw(r, table) for r in records]
    frame, problems = parse_and_check(file, table, records_frame(table, rows))
    if problems:
        raise DataValidationError(problems)
    return frame


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a block builds many containers (decoding a
    column of JSON lists creates hundreds of thousands; each allocation burst would otherwise
    start collections that traverse every object of the process: measured 5× the decode)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def json_column(cells: Sequence[str | None]) -> list[Any]:
    """Decode a column of JSON texts in one ``json.loads`` of their concatenation (NULL → None)."""
    texts = cast(Sequence[str], cells) if None not in cells else [c or "null" for c in cells]
    decoded: list[Any] = json.loads("[" + ",".join(texts) + "]")
    return decoded


_DTYPE = {Kind.INT: "Int64", Kind.FLOAT: "Float64", Kind.BOOL: "boolean"}


def _stored_column(col: Column, cells: Sequence[Any]) -> pd.Series:
    if col.kind.is_list:
        lists = [[] if xs is None else xs for xs in json_column(cells)]
        return pd.Series(lists if lists else [], dtype=object)
    if col.kind in _DTYPE:
        return pd.Series(pd.array(list(cells), dtype=_DTYPE[col.kind]))
    if col.kind is Kind.DATETIME:
        return pd.Series(pd.to_datetime(list(cells), utc=True), dtype="datetime64[ns, UTC]")
    return pd.Series(list(cells), dtype=object)


def stored_frame(table: Table, columns: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Cells as the database stores them, column by column in contract order (list columns as
    their JSON text), → the typed contract frame :func:`typed_frame` gives for the same rows.

    No row is parsed or validated again: every stored row passed the contract when it was
    written (:func:`typed_frame` on the way in), and the typed values were stored as they are,
    so only the column types are rebuilt (one ``json.loads`` per list column, one
    ``pd.array`` per scalar column).
    """
    if len(columns) != len(table.columns):
        raise ValueError(
            f"{table.name}: {len(columns)} columns, the contract has {len(table.columns)}"
        )
    with gc_paused():
        data = {
            col.name: _stored_column(col, cells)
            for col, cells in zip(table.columns, columns, strict=True)
        }
    return pd.DataFrame(data)


__all__ = [
    "frame_records",
    "gc_paused",
    "json_column",
    "plain",
    "plain_features",
    "stored_frame",
    "typed_frame",
]
