"""Packed-set primitives: the broadcasting fast paths answer as the row-by-row definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features import bitset

WIDTHS = st.sampled_from([1, 5, 64, 65, 168, 200])


def _sets(draw: st.DrawFn, n: int, width: int) -> list[list[int]]:
    return [draw(st.lists(st.integers(0, width - 1), max_size=6)) for _ in range(n)]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), width=WIDTHS, n=st.integers(0, 12))
def test_intersects_and_has_match_their_definitions(
    data: st.DataObject, width: int, n: int
) -> None:
    rows = _sets(data.draw, n, width)
    words = bitset.pack_lists(rows, width)
    other = _sets(data.draw, 1, width)[0]
    one = bitset.pack_lists([other], width)
    # one row against many (broadcast) and pair by pair give the set definition
    want = np.array([bool(set(r) & set(other)) for r in rows], dtype=bool)
    assert np.array_equal(bitset.intersects(one, words), want)
    assert np.array_equal(bitset.intersects(np.repeat(one, n, axis=0), words), want)
    item = data.draw(st.integers(-1, width - 1))
    want_has = np.array([item in r for r in rows], dtype=bool)
    assert np.array_equal(bitset.has(words, np.array([item])), want_has)
    assert np.array_equal(bitset.has(words, np.full(n, item)), want_has)
    assert np.array_equal(bitset.has(words, np.int64(item)), want_has)
