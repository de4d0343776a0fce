"""Positions of ids in another list of ids: the one join of entity ids by row position.

Ids are compared as strings (``7`` and ``"7"`` are the same id), as everywhere in the data
contract. The lookup is Arrow's hash join (:func:`pyarrow.compute.index_in`), several times
faster than building a pandas index of Python strings for each call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


def _strings(ids: Any) -> pa.Array:
    """``ids`` as an Arrow string array (non-string ids cast to their decimal text)."""
    try:
        array = pa.array(ids, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(np.asarray(ids).astype(str))
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    return array.cast(pa.large_string())


def positions(keys: Any, wanted: Any) -> npt.NDArray[np.int64]:
    """Position in ``keys`` (unique ids) of each id of ``wanted``; −1 where it is absent."""
    found = pc.index_in(_strings(wanted), value_set=_strings(keys))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


__all__ = ["positions"]
