"""Packed multi-hot encodings: a set of small integers per row as uint64 words.

A row's set ``{3, 70}`` over a 168-wide universe is 3 words with bits 3 and 6 (of word 1) set.
Intersections of many pairs are then one ``&`` and one popcount, vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Words = npt.NDArray[np.uint64]


def n_words(width: int) -> int:
    """uint64 words needed for a universe of ``width`` values (at least one)."""
    return max(1, -(-width // 64))


def pack(rows: npt.NDArray[np.int64], items: npt.NDArray[np.int64], n: int, width: int) -> Words:
    """Pack (row, item) memberships into an ``(n, n_words(width))`` uint64 array.

    ``rows[k]`` holds item ``items[k]``; items outside ``[0, width)`` are ignored.
    """
    keep = (items >= 0) & (items < width)
    rows, items = rows[keep], items[keep]
    dense = np.zeros((n, n_words(width) * 64), dtype=bool)
    dense[rows, items] = True
    return np.packbits(dense, axis=1, bitorder="little").view(np.uint64)


def pack_lists(lists: Sequence[Sequence[int]], width: int) -> Words:
    """Pack a sequence of integer lists (one per row)."""
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    flat = [i for xs in lists for i in xs]
    items = np.asarray(flat, dtype=np.int64) if flat else np.zeros(0, dtype=np.int64)
    return pack(rows, items, len(lists), width)


def count(words: Words) -> npt.NDArray[np.int64]:
    """Number of members of each row's set: popcount summed over the words."""
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


def overlap(a: Words, b: Words) -> npt.NDArray[np.int64]:
    """Size of the intersection of each row of ``a`` with the matching row of ``b``."""
    return count(a & b)


def intersects(a: Words, b: Words) -> npt.NDArray[np.bool_]:
    """Whether each row of ``a`` shares a member with the matching row of ``b`` (rows
    broadcast: one row against many is one pass over the many)."""
    both = a & b
    if both.ndim == 0 or both.shape[-1] == 0:
        return np.zeros(both.shape[:-1], dtype=bool)
    # OR the word columns (a reduction along a 1–3 word axis costs ~10× this per row)
    joined = both[..., 0].copy()
    for w in range(1, both.shape[-1]):
        joined |= both[..., w]
    return np.asarray(joined != 0, dtype=bool)


def has(words: Words, item: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each row holds ``item`` (a scalar or one item per row; −1 never matches)."""
    item = np.asarray(item, dtype=np.int64)
    if item.size == 1:  # one item for every row: read its word column directly
        code = int(item.reshape(-1)[0])
        if code < 0 or code // 64 >= words.shape[-1]:
            return np.zeros(words.shape[:-1], dtype=bool)
        column = words[..., code // 64]
        return np.asarray((column >> np.uint64(code % 64)) & np.uint64(1) == 1, dtype=bool)
    valid = item >= 0
    safe = np.where(valid, item, 0)
    word = np.take_along_axis(words, np.broadcast_to(safe // 64, words.shape[:-1])[..., None], -1)
    bit = (word[..., 0] >> (safe % 64).astype(np.uint64)) & np.uint64(1)
    return np.asarray((bit == 1) & valid, dtype=bool)


def members(words: Words, width: int) -> npt.NDArray[np.bool_]:
    """Unpack to a dense boolean ``(n, width)`` matrix."""
    bits = np.unpackbits(words.view(np.uint8), axis=-1, bitorder="little")
    return bits[..., :width].astype(bool)


__all__ = [
    "Words",
    "count",
    "has",
    "intersects",
    "members",
    "n_words",
    "overlap",
    "pack",
    "pack_lists",
]
