"""A change of a pool ordered by therapist id, as row positions: which rows stay, where the
new ones go. One plan updates the pool's frame and every array kept per therapist row.

The merged pool is the old pool without the rows whose ids were removed or upserted, plus the
upserted rows, ordered by therapist id (stable)::

    merged = concat(old[kept], upserted)[order]

Finding the rows costs O(change) dictionary look-ups (or one vectorised ``isin``); when the old
pool is already ordered by id, placing the new rows is a binary search per new row, so no
Python work scales with the pool: only array copies do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

I64 = npt.NDArray[np.int64]
Rows = np.ndarray[Any, Any]
"""An array whose first axis is the pool's rows."""


def _ascending(ids: npt.NDArray[np.object_]) -> bool:
    return bool(len(ids) < 2 or np.all(ids[:-1] < ids[1:]))


@dataclass(frozen=True)
class PoolMerge:
    """``merged = concat(old[kept], new)[order]`` (see the module docstring)."""

    kept: I64
    """Positions of the old rows that stay (ascending)."""
    order: I64
    """Positions into ``concat(old[kept], new)``, in the merged (id) order."""

    @classmethod
    def plan(
        cls,
        ids: npt.NDArray[np.object_],
        upserted: Sequence[str] | npt.NDArray[np.object_],
        removed: Iterable[str] = (),
        *,
        index: Mapping[str, int] | None = None,
    ) -> PoolMerge:
        """The plan for a pool whose rows have ``ids`` (``index``: id → row, when the caller
        keeps one) taking the ``upserted`` ids (in the order of their rows) and dropping the
        ``removed`` ones (ids not in the pool are ignored)."""
        ids = np.asarray(ids, dtype=object)
        new_ids = np.asarray(list(upserted), dtype=object)
        changed = set(map(str, removed)) | set(map(str, new_ids))
        if index is not None:
            drop = np.zeros(len(ids), dtype=bool)
            drop[[index[t] for t in changed if t in index]] = True
        else:
            drop = pd.Index(ids).isin(list(changed))
        kept = np.flatnonzero(~drop).astype(np.int64)
        kept_ids = ids[kept]
        n_kept, n_new = len(kept), len(new_ids)
        if not _ascending(kept_ids):  # a pool not (yet) in id order: one full stable sort
            combined = np.concatenate([kept_ids, new_ids])
            return cls(kept, np.argsort(combined, kind="stable").astype(np.int64))
        new_order = np.argsort(new_ids, kind="stable").astype(np.int64)
        dest = np.searchsorted(kept_ids, new_ids[new_order]).astype(np.int64) + np.arange(n_new)
        is_new = np.zeros(n_kept + n_new, dtype=bool)
        is_new[dest] = True
        order = np.empty(n_kept + n_new, dtype=np.int64)
        order[~is_new] = np.arange(n_kept)
        order[dest] = n_kept + new_order
        return cls(kept, order)

    def __len__(self) -> int:
        return len(self.order)

    def take(self, kept: Rows, new: Rows) -> Rows:
        """Rows of the merged pool from the kept old rows (``old[self.kept]``) and the new ones."""
        out: Rows = (np.concatenate([kept, new]) if len(new) else kept)[self.order]
        return out

    def rows(self, old: Rows, new: Rows) -> Rows:
        """Rows of the merged pool from all the old rows and the new ones (arrays by row)."""
        return self.take(old[self.kept], new)

    def frame(self, old: pd.DataFrame, new: pd.DataFrame | None) -> pd.DataFrame:
        """The merged frame (a fresh RangeIndex), as ``merged_pool`` orders it: one take of
        the old and new rows stacked (the kept rows are picked by the same take)."""
        if new is None or not len(new):
            return old.take(self.kept[self.order]).reset_index(drop=True)
        if not len(self.kept):
            return new.take(self.order).reset_index(drop=True)
        n_kept = len(self.kept)
        source = np.where(
            self.order < n_kept,
            self.kept[np.minimum(self.order, n_kept - 1)],
            len(old) + self.order - n_kept,
        )
        return pd.concat([old, new], ignore_index=True).take(source).reset_index(drop=True)


__all__ = ["PoolMerge"]
