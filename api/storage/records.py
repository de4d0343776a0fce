"""Typed contract frames ⇄ plain row dicts (the shapes the database and JSON speak)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from features.dataset import parse_and_check
from features.parsing import records_frame
from features.schemas import Table


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


__all__ = ["frame_records", "plain", "plain_features", "typed_frame"]
