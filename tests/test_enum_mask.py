"""Fixed-vocabulary masks are the packed sets of their cells (bit k = member k)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from features import bitset
from features.encoding import enum_mask
from features.vocab import Approach, Concern, Format

CELLS = st.lists(
    st.one_of(
        st.none(),
        st.just("video"),
        st.lists(st.sampled_from([*(m.value for m in Concern), "video", "cbt", "nope"])),
    ),
    max_size=8,
)


@given(cells=CELLS)
def test_enum_mask_is_the_packed_set(cells: list) -> None:
    for enum in (Concern, Approach, Format):
        position = {m.value: k for k, m in enumerate(enum)}
        members = [
            [position[v] for v in xs if v in position] if isinstance(xs, list) else []
            for xs in cells
        ]
        want = bitset.pack_lists(members, len(enum))[:, 0]
        got = enum_mask(cells, enum)
        assert got.dtype == np.uint64 and np.array_equal(got, want)
