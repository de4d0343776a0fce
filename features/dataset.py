"""A dataset of the contract: three typed tables loaded from (or written to) one folder."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import DataNotFoundError, DataValidationError, Problem, UnknownColumnsWarning
from features.parsing import parse_table
from features.schemas import INTAKES, INTERACTIONS, TABLES, THERAPISTS, Table
from features.validation import check_duplicate_pairs, check_references, check_table

SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class Dataset:
    """The three tables, typed: list columns hold Python lists, times are UTC timestamps."""

    therapists: pd.DataFrame
    intakes: pd.DataFrame
    interactions: pd.DataFrame

    def summary(self) -> dict[str, int]:
        """Row counts per table."""
        return {
            "therapists": len(self.therapists),
            "intakes": len(self.intakes),
            "interactions": len(self.interactions),
        }


def find_table(folder: Path, name: str) -> Path:
    """The file holding table ``name`` in ``folder`` (``name.parquet`` or ``name.csv``)."""
    for suffix in SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.exists():
            return path
    raise DataNotFoundError(f"{folder}: no {name}.parquet or {name}.csv")


def read_raw(path: Path) -> pd.DataFrame:
    """Read a table file without interpreting it: CSV cells as text, Parquet as stored.

    A file that cannot be read as a table is a DataValidationError naming the file and why.
    """
    why: str
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        why = "the file is empty (not even a header row)"
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
    except pd.errors.ParserError as exc:
        why = f"not a readable CSV file ({str(exc).splitlines()[0].rstrip('.')})"
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise DataNotFoundError(f"{path}: no such file") from None
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        why = f"not a readable {kind} file ({type(exc).__name__})"
    raise DataValidationError([Problem(path.name, None, None, None, why)])


def _no_rows(file: str, frame: pd.DataFrame) -> list[Problem]:
    """A table with a header and no rows is a problem: nothing can be matched or learnt from it."""
    return [] if len(frame) else [Problem(file, None, None, None, "the table has no rows")]


def parse_and_check(
    file: str, table: Table, raw: pd.DataFrame
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse a raw frame and check it against the contract; warns about unknown columns."""
    frame, problems, unknown = parse_table(file, table, raw)
    if unknown:
        warnings.warn(
            f"{file}: ignoring unknown column(s): {', '.join(map(str, unknown))}",
            UnknownColumnsWarning,
            stacklevel=2,
        )
    # A missing column is reported once, not again for every row; other columns are still checked.
    missing = {p.column for p in problems if p.row is None}
    seen = {(p.row, p.column) for p in problems}
    problems += [
        p
        for p in check_table(file, table, frame)
        if p.column not in missing and (p.row, p.column) not in seen
    ]
    order = {name: i for i, name in enumerate(table.names)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.column or "", -1)))
    return frame, problems


def load_dataset(folder: str | Path, *, interactions: bool = True) -> Dataset:
    """Load and validate the tables in ``folder``; raises DataValidationError listing every problem.

    ``interactions=False`` loads a pool and intakes only (an empty history is used).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"{folder}: not a folder")
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    names = ["therapists", "intakes"] + (["interactions"] if interactions else [])
    for name in names:
        path = find_table(folder, name)
        try:
            raw = read_raw(path)
        except DataValidationError as exc:
            problems += exc.problems
            frames[name] = empty_table(TABLES[name])
            continue
        frames[name], found = parse_and_check(path.name, TABLES[name], raw)
        # an empty history is a valid start (a new platform); no therapists or intakes is not
        problems += found or ([] if name == "interactions" else _no_rows(path.name, frames[name]))
    if not interactions:
        frames["interactions"] = empty_table(INTERACTIONS)
    elif not problems:
        file = find_table(folder, "interactions").name
        inter = frames["interactions"]
        problems += check_references(
            file, inter, "intake_id", frames["intakes"]["intake_id"], "intakes"
        )
        problems += check_references(
            file, inter, "therapist_id", frames["therapists"]["therapist_id"], "therapists"
        )
        problems += check_duplicate_pairs(file, inter, ["intake_id", "therapist_id"])
    if problems:
        raise DataValidationError(problems)
    return Dataset(frames["therapists"], frames["intakes"], frames["interactions"])


def load_table(path: str | Path, table: Table) -> pd.DataFrame:
    """Load and validate one table file (e.g. a file of intakes to rank)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"{path}: no such file")
    frame, problems = parse_and_check(path.name, table, read_raw(path))
    problems += _no_rows(path.name, frame)
    if problems:
        raise DataValidationError(problems)
    return frame


def empty_table(table: Table) -> pd.DataFrame:
    """A typed table with no rows."""
    frame, _, _ = parse_table(table.name, table, pd.DataFrame(columns=table.names))
    return frame


def to_storable(frame: pd.DataFrame, table: Table, *, csv: bool) -> pd.DataFrame:
    """A frame ready to write: lists ``;``-joined for CSV, native for Parquet."""
    out = frame[[c for c in table.names if c in frame.columns]].copy()
    for col in table.columns:
        if col.kind.is_list and col.name in out.columns and csv:
            out[col.name] = out[col.name].map(lambda xs: ";".join(str(x) for x in xs))
    return out


def write_table(frame: pd.DataFrame, path: str | Path, table: Table) -> Path:
    """Write a typed table as CSV or Parquet, chosen by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    csv = path.suffix != ".parquet"
    out = to_storable(frame, table, csv=csv)
    if csv:
        out.to_csv(path, index=False)
    else:
        out.to_parquet(path, index=False)
    return path


def write_dataset(dataset: Dataset, folder: str | Path, *, fmt: str = "csv") -> Path:
    """Write the three tables to ``folder`` as ``fmt`` (csv or parquet)."""
    folder = Path(folder)
    for table, frame in (
        (THERAPISTS, dataset.therapists),
        (INTAKES, dataset.intakes),
        (INTERACTIONS, dataset.interactions),
    ):
        write_table(frame, folder / f"{table.name}.{fmt}", table)
    return folder


__all__ = [
    "Dataset",
    "empty_table",
    "find_table",
    "load_dataset",
    "load_table",
    "parse_and_check",
    "write_dataset",
    "write_table",
]
