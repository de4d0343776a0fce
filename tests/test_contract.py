"""The data contract: every kind of bad input gets one clear problem naming file, row, column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.errors import DataNotFoundError, DataValidationError, UnknownColumnsWarning
from features.dataset import Dataset, load_dataset, write_dataset
from features.schemas import INTAKES, INTERACTIONS, THERAPISTS
from tests.factories import (
    intake,
    intakes_frame,
    interactions_frame,
    therapist,
    therapists_frame,
)


def _world(tmp_path: Path, fmt: str = "csv") -> Path:
    ds = Dataset(
        therapists_frame([therapist(), therapist(therapist_id="t2", languages=["en", "es"])]),
        intakes_frame([intake(), intake(intake_id="i2", concerns=["grief_loss", "sleep"])]),
        interactions_frame(
            [
                {
                    "intake_id": "i1",
                    "therapist_id": "t1",
                    "position": 1,
                    "chosen": True,
                    "sessions_attended": 5,
                    "dropped_out": False,
                    "reliable_improvement": True,
                },
                {"intake_id": "i1", "therapist_id": "t2", "position": 2, "chosen": False},
            ]
        ),
    )
    return write_dataset(ds, tmp_path / "world", fmt=fmt)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_keeps_lists_and_types(tmp_path: Path, fmt: str) -> None:
    ds = load_dataset(_world(tmp_path, fmt))
    assert ds.therapists.loc[1, "languages"] == ["en", "es"]
    assert ds.intakes.loc[1, "concerns"] == ["grief_loss", "sleep"]
    assert ds.therapists.loc[0, "availability"] == [18, 19, 20]
    assert ds.intakes["submitted_at"].dt.tz is not None
    assert ds.summary() == {"therapists": 2, "intakes": 2, "interactions": 2}


def _break(folder: Path, table: str, column: str, row: int, value: str) -> None:
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("therapists", "specialties", "anxiety;telepathy", "unknown value; allowed: anxiety"),
        ("therapists", "license_type", "shaman", "unknown value; allowed: psychologist"),
        ("therapists", "years_experience", "61", "out of range"),
        ("therapists", "years_experience", "ten", "not a whole number"),
        ("therapists", "availability", "3;168", "out of range"),
        ("therapists", "accepting_new_clients", "maybe", "not true/false"),
        ("therapists", "therapist_id", "t2", "duplicate id"),
        ("therapists", "display_name", "", "required value is missing"),
        ("intakes", "phq9", "28", "out of range"),
        ("intakes", "concerns", "anxiety;depression;ocd;adhd;anger;sleep", "needs 1 to 5 items"),
        ("intakes", "submitted_at", "yesterday", "not an ISO-8601 time"),
        ("intakes", "concerns", "anxiety;sleep;anxiety", "lists a value more than once"),
        ("interactions", "position", "0", "out of range"),
        ("interactions", "therapist_id", "ghost", "not in therapists"),
        ("interactions", "intake_id", "nobody", "not in intakes"),
    ],
)
def test_each_bad_input_is_named(
    tmp_path: Path, table: str, column: str, value: str, message: str
) -> None:
    folder = _world(tmp_path)
    _break(folder, table, column, 0, value)
    with pytest.raises(DataValidationError) as err:
        load_dataset(folder)
    problems = err.value.problems
    assert len(problems) == 1, problems
    (p,) = problems
    row = 2 if message == "duplicate id" else 1  # the later copy is the duplicate
    assert (p.file, p.row, p.column) == (f"{table}.csv", row, column)
    assert message in p.message
    if value:
        assert p.value is not None and p.value in value


def test_missing_required_column(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    frame = pd.read_csv(folder / "intakes.csv", dtype=str)
    frame.drop(columns=["payment"]).to_csv(folder / "intakes.csv", index=False)
    with pytest.raises(DataValidationError) as err:
        load_dataset(folder)
    assert [(p.file, p.row, p.column) for p in err.value.problems] == [
        ("intakes.csv", None, "payment")
    ]
    assert "required column is missing" in str(err.value)


def test_unknown_columns_warn_but_load(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    frame = pd.read_csv(folder / "therapists.csv", dtype=str)
    frame.assign(favourite_colour="blue").to_csv(folder / "therapists.csv", index=False)
    with pytest.warns(UnknownColumnsWarning, match="favourite_colour"):
        ds = load_dataset(folder)
    assert "favourite_colour" not in ds.therapists.columns


def test_missing_column_does_not_hide_other_problems(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    _break(folder, "therapists", "gender", 0, "robot")
    frame = pd.read_csv(folder / "therapists.csv", dtype=str)
    frame.drop(columns=["languages"]).to_csv(folder / "therapists.csv", index=False)
    with pytest.raises(DataValidationError) as err:
        load_dataset(folder)
    assert [(p.row, p.column) for p in err.value.problems] == [(None, "languages"), (1, "gender")]


def test_missing_table_is_a_clear_error(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    (folder / "intakes.csv").unlink()
    with pytest.raises(DataNotFoundError, match="intakes"):
        load_dataset(folder)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = _world(tmp_path)
    _break(folder, "therapists", "gender", 0, "robot")
    _break(folder, "therapists", "session_fee", 1, "-5")
    _break(folder, "intakes", "region", 1, "")
    with pytest.raises(DataValidationError) as err:
        load_dataset(folder)
    found = {(p.file, p.row, p.column) for p in err.value.problems}
    assert found == {
        ("therapists.csv", 1, "gender"),
        ("therapists.csv", 2, "session_fee"),
        ("intakes.csv", 2, "region"),
    }


def test_contract_tables_are_the_single_source() -> None:
    assert THERAPISTS.key == "therapist_id" and INTAKES.key == "intake_id"
    assert INTERACTIONS.column("alliance").maximum == 5


def test_the_contract_page_in_docs_is_generated_from_the_schemas() -> None:
    from features.contract_doc import render_markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"
    assert page.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-contract.md is stale: run python -m features.contract_doc docs/data-contract.md"
    )
