"""Typed contract tables built straight from generated columns.

Scalar columns go through the loader's own column parser (:func:`features.parsing.parse_column`,
vectorised), times as the ISO-8601 text a CSV holds, so the dtypes are exactly those
:func:`features.dataset.load_dataset` gives. List columns, already Python lists of valid values,
skip the parser's per-cell splitting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.parsing import parse_column
from features.schemas import Kind, Table


def iso_utc(values: Any) -> np.ndarray:
    """Times as ISO-8601 UTC text with second resolution (``2024-07-01T01:26:11Z``)."""
    stamps = pd.to_datetime(pd.Series(values), utc=True).dt.tz_localize(None)
    return np.datetime_as_string(stamps.to_numpy(dtype="datetime64[s]"), unit="s") + "Z"


def typed_frame(table: Table, columns: dict[str, Any]) -> pd.DataFrame:
    """A frame with every contract column of ``table``, in order, typed as the loader types it.

    Missing values may be NaN, NA or None; columns absent from ``columns`` are filled as missing.
    Raises AssertionError if a generated value does not parse (a generator bug).
    """
    n = len(next(iter(columns.values())))
    data: dict[str, pd.Series] = {}
    for col in table.columns:
        values = columns.get(col.name)
        if col.kind.is_list:
            data[col.name] = pd.Series(
                [[] for _ in range(n)] if values is None else list(values), dtype=object
            )
            continue
        if values is None:
            values = [None] * n
        elif col.kind is Kind.DATETIME:
            values = iso_utc(values)
        parsed, problems = parse_column(table.name, col, pd.Series(values).reset_index(drop=True))
        if problems:
            raise AssertionError(
                f"generated {table.name}.{col.name} does not parse: {problems[:3]}"
            )
        data[col.name] = parsed
    return pd.DataFrame(data)


__all__ = ["iso_utc", "typed_frame"]
