"""Region and language codes: checked against the ISO lists and normalised, in files and bodies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DataValidationError
from features.codes import CodeSet, checked, known_codes, normalise
from features.dataset import Dataset, load_dataset, write_dataset
from tests.factories import intake, intakes_frame, interactions_frame, therapist, therapists_frame


def _write(tmp_path: Path, therapist_over: dict, intake_over: dict) -> Path:
    ds = Dataset(
        therapists_frame([therapist(**therapist_over)]),
        intakes_frame([intake(**intake_over)]),
        interactions_frame([]),
    )
    write_dataset(ds, tmp_path)
    return tmp_path


def test_codes_are_normalised_when_files_are_read(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        {"licensed_regions": ["us-ca", "in"], "languages": ["EN", "Es"]},
        {"region": "us-ca", "languages": ["En"]},
    )
    ds = load_dataset(folder, interactions=False)
    assert ds.therapists.loc[0, "licensed_regions"] == ["US-CA", "IN"]
    assert ds.therapists.loc[0, "languages"] == ["en", "es"]
    assert ds.intakes.loc[0, "region"] == "US-CA" and ds.intakes.loc[0, "languages"] == ["en"]


def test_codes_that_do_not_exist_are_problems_naming_file_row_and_column(tmp_path: Path) -> None:
    folder = _write(tmp_path, {}, {})
    for table, column, value in [
        ("therapists", "licensed_regions", "US-CA;Narnia"),
        ("intakes", "region", "XX-ZZ"),
        ("intakes", "languages", "english"),
    ]:
        frame = pd.read_csv(folder / f"{table}.csv", dtype=str)
        frame.loc[0, column] = value
        frame.to_csv(folder / f"{table}.csv", index=False)
    with pytest.raises(DataValidationError) as caught:
        load_dataset(folder, interactions=False)
    found = {(p.file, p.row, p.column): p for p in caught.value.problems}
    assert "ISO 3166" in found[("therapists.csv", 1, "licensed_regions")].message
    assert found[("intakes.csv", 1, "region")].value == "XX-ZZ"
    assert "ISO 639-1" in found[("intakes.csv", 1, "languages")].message
    assert found[("intakes.csv", 1, "languages")].value == "english"


def test_code_lists_hold_countries_subdivisions_and_languages() -> None:
    regions, languages = known_codes(CodeSet.REGION), known_codes(CodeSet.LANGUAGE)
    assert {"US", "US-CA", "IN", "GB", "GB-ENG", "DE-BY"} <= regions
    assert {"en", "es", "hi", "zh", "ar"} <= languages
    assert "XX" not in regions and "english" not in languages


@given(st.sampled_from(sorted(known_codes(CodeSet.REGION))), st.booleans())
def test_any_real_region_in_any_case_normalises_to_itself(code: str, lower: bool) -> None:
    assert checked(CodeSet.REGION, code.lower() if lower else code) == code
    assert normalise(CodeSet.REGION, f"  {code.lower()} ") == code
