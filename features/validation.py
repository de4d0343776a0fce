"""Contract checks on parsed tables: pandera schemas derived from :data:`features.schemas.TABLES`,
plus the cross-table checks (dangling references).

Every failure becomes a :class:`~core.errors.Problem` naming file, row, column and value.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa

from core.errors import Problem
from features.codes import HINT, known_codes
from features.schemas import Column, Kind, Table


def _items_within(lo: float | None, hi: float | None) -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        flat = pd.to_numeric(s.explode(), errors="coerce")
        ok = flat.isna() | ((lo is None or flat >= lo) & (hi is None or flat <= hi))
        return ok.groupby(level=0).all().reindex(s.index, fill_value=True)

    return pa.Check(check, name="items_in_range", error="items_in_range")


def _items_in(allowed: Collection[str], name: str = "items_in_vocabulary") -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        flat = s.explode()
        ok = flat.isna() | flat.isin(allowed)
        return ok.groupby(level=0).all().reindex(s.index, fill_value=True)

    return pa.Check(check, name=name, error=name)


def _allowed(col: Column) -> frozenset[str]:
    """Values a column's cells (or items) may take: its vocabulary or its ISO code list."""
    if col.codes is not None:
        return known_codes(col.codes)
    return frozenset(col.allowed or [])


def _distinct_items() -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        flat = s.reset_index(drop=True).explode().dropna()
        pairs = pd.DataFrame({"row": flat.index, "value": flat.to_numpy()})
        bad = np.zeros(len(s), dtype=bool)
        bad[pairs.loc[pairs.duplicated(), "row"].to_numpy(dtype=np.int64)] = True
        return pd.Series(~bad, index=s.index)

    return pa.Check(check, name="distinct_items", error="distinct_items")


def _length_between(lo: int, hi: int | None) -> pa.Check:
    def check(s: pd.Series) -> pd.Series:
        n = s.map(len)
        return (n >= lo) & (True if hi is None else n <= hi)

    return pa.Check(check, name="list_length", error="list_length")


def _pa_column(col: Column) -> pa.Column:
    checks: list[pa.Check] = []
    if col.kind.is_list:
        if col.vocab is not None:
            checks.append(_items_in(col.allowed or []))
        if col.codes is not None:
            checks.append(_items_in(known_codes(col.codes), "items_in_code_list"))
        if col.kind is Kind.LIST_STR:
            checks.append(_distinct_items())
        if col.minimum is not None or col.maximum is not None:
            checks.append(_items_within(col.minimum, col.maximum))
        lo = col.min_items if col.required else 0
        if lo or col.max_items is not None:
            checks.append(_length_between(max(lo, 0), col.max_items))
        # A required empty list counts as a missing value (SPEC §2: empty cell = missing).
        return pa.Column(checks=checks, nullable=False, required=False, name=col.name)
    if col.vocab is not None:
        checks.append(pa.Check.isin(col.allowed or [], name="vocabulary"))
    if col.codes is not None:
        codes = known_codes(col.codes)
        checks.append(pa.Check(lambda s: s.isin(codes), name="code_list", error="code_list"))
    if col.minimum is not None:
        checks.append(pa.Check.ge(col.minimum, name="minimum"))
    if col.maximum is not None:
        checks.append(pa.Check.le(col.maximum, name="maximum"))
    if col.max_len is not None:
        checks.append(pa.Check.str_length(max_value=col.max_len, name="max_length"))
    return pa.Column(
        checks=checks,
        nullable=not col.required,
        required=False,
        name=col.name,
    )


@cache
def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """The pandera schema of a contract table (missing columns are reported by the parser)."""
    return pa.DataFrameSchema(
        {c.name: _pa_column(c) for c in table.columns}, strict=False, name=table.name
    )


_BUILTIN_CHECKS = {
    "isin": "vocabulary",
    "greater_than_or_equal_to": "minimum",
    "less_than_or_equal_to": "maximum",
    "str_length": "max_length",
}


def _message(col: Column | None, check: str, value: object) -> str:
    if check in ("not_nullable", "list_length") and col is not None and col.kind.is_list:
        if col.required and isinstance(value, (list, np.ndarray)) and len(value) == 0:
            return "required value is missing"
        return f"needs {col.min_items} to {col.max_items or 'any number of'} items"
    if check == "not_nullable":
        return "required value is missing"
    if check == "distinct_items":
        return "lists a value more than once"
    if check in ("code_list", "items_in_code_list") and col is not None and col.codes:
        return f"unknown code; expected {HINT[col.codes]}"
    if check in ("vocabulary", "items_in_vocabulary") and col is not None:
        return f"unknown value; allowed: {', '.join(col.allowed or [])}"
    if col is not None and check in ("minimum", "maximum", "items_in_range"):
        return f"out of range [{col.minimum}, {col.maximum}]"
    if col is not None and check == "max_length":
        return f"longer than {col.max_len} characters"
    return f"fails check {check}"


def _shown(col: Column | None, check: str, value: object) -> str | None:
    if value is None or (not isinstance(value, (list, np.ndarray)) and pd.isna(value)):
        return None
    if col is not None and isinstance(value, (list, np.ndarray)):
        items = list(value)
        if check in ("items_in_vocabulary", "items_in_code_list"):
            allowed = _allowed(col)
            items = [x for x in items if x not in allowed]
        elif check == "items_in_range":
            items = [
                x
                for x in items
                if (col.minimum is not None and x < col.minimum)
                or (col.maximum is not None and x > col.maximum)
            ]
        return ";".join(str(x) for x in items)
    return str(value)


def check_table(file: str, table: Table, frame: pd.DataFrame) -> list[Problem]:
    """Run the pandera schema of ``table`` over a parsed frame; every failure as a Problem."""
    problems = check_unique(file, table, frame)
    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases
        for case in cases.itertuples(index=False):
            name = str(case.column) if case.column is not None else None
            col = table.column(name) if name in table.names else None
            check = str(case.check).split("(")[0]
            check = _BUILTIN_CHECKS.get(check, check)
            row_label = case.index
            row = None if row_label is None or pd.isna(row_label) else int(row_label) + 1
            value = case.failure_case
            if col is not None and col.kind.is_list and row is not None:
                value = frame[col.name].iloc[row - 1]
            problems.append(
                Problem(file, row, name, _shown(col, check, value), _message(col, check, value))
            )
    return problems


def check_references(
    file: str, frame: pd.DataFrame, column: str, known: pd.Series, target: str
) -> list[Problem]:
    """Rows of ``frame`` whose ``column`` value is not among ``known`` (a dangling reference)."""
    dangling = frame[column].notna() & ~frame[column].isin(set(known.dropna()))
    return [
        Problem(file, int(i) + 1, column, str(frame[column].iloc[int(i)]), f"not in {target}")
        for i in np.flatnonzero(dangling.to_numpy())[:1000]
    ]


def check_unique(file: str, table: Table, frame: pd.DataFrame) -> list[Problem]:
    """Rows repeating an id seen on an earlier row (the first occurrence is not a problem)."""
    problems = []
    for col in table.columns:
        if col.unique and col.name in frame.columns:
            values = frame[col.name]
            first = values.drop_duplicates(keep="first")
            first_row = pd.Series(first.index, index=first.to_numpy())
            for i in np.flatnonzero((values.notna() & values.duplicated(keep="first")).to_numpy()):
                original = int(first_row[values.iloc[i]]) + 1
                problems.append(
                    Problem(
                        file,
                        int(i) + 1,
                        col.name,
                        str(values.iloc[i]),
                        f"duplicate id (first at row {original})",
                    )
                )
    return problems


def check_duplicate_pairs(file: str, frame: pd.DataFrame, columns: list[str]) -> list[Problem]:
    """Rows repeating an earlier row's values of ``columns`` (e.g. a therapist shown twice)."""
    dup = frame.duplicated(subset=columns, keep="first").to_numpy()
    return [
        Problem(
            file,
            int(i) + 1,
            "+".join(columns),
            "/".join(str(frame[c].iloc[int(i)]) for c in columns),
            "duplicate row",
        )
        for i in np.flatnonzero(dup)[:1000]
    ]


def columns_of_kind(table: Table, kind: Kind) -> list[str]:
    """Names of the columns of one kind (e.g. all list columns)."""
    return [c.name for c in table.columns if c.kind is kind]


__all__ = [
    "check_duplicate_pairs",
    "check_references",
    "check_table",
    "check_unique",
    "columns_of_kind",
    "pandera_schema",
]
