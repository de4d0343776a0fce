"""Joining ids to row positions (core.ids.positions) behaves as a string-keyed lookup."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from core.ids import positions

ids = st.text(alphabet="abcé0123-_ ", min_size=0, max_size=4)


@given(st.lists(ids, unique=True, max_size=30), st.lists(ids, max_size=60))
def test_positions_are_a_string_lookup(keys: list[str], wanted: list[str]) -> None:
    index = {k: i for i, k in enumerate(keys)}
    expected = [index.get(w, -1) for w in wanted]
    got = positions(np.array(keys, dtype=object), pd.Series(wanted, dtype=object))
    assert got.dtype == np.int64
    assert got.tolist() == expected


def test_ids_of_other_types_compare_as_their_text() -> None:
    keys = pd.Series(["7", "8", "t-1"], dtype="string")
    assert positions(keys, np.array([8, 7, 9])).tolist() == [1, 0, -1]
    assert positions(np.array([1, 2, 3]), ["3", "1", "4"]).tolist() == [2, 0, -1]
    mixed = np.array(["a", 5], dtype=object)
    assert positions(mixed, ["5", "a"]).tolist() == [1, 0]
    assert positions(keys, pd.Series(["t-1", None])).tolist() == [2, -1]
    assert positions(keys, pd.Series(["8"], dtype="category")).tolist() == [1]
