"""Predicting a LightGBM forest on large batches: compiled to machine code once, then reused.

LightGBM's ``predict`` walks every tree for every row, about 15–20 ns per row and tree on two
threads here: the training job's held-out scoring (about 230,000 candidate pairs × 3,000
engagement trees at 65,000 intakes) spent ten seconds in it. lleaves compiles the forest with
LLVM into one function (about 1.7 ms per tree, once per booster) that predicts the same batch
twenty to forty times faster, so batches of at least :data:`COMPILE_ROWS` rows use the compiled
forest and smaller ones (every serving request) LightGBM itself.

The compiled forest returns LightGBM's predictions up to the order in which leaf values are
summed (differences of the order of 1e-15; ``tests/test_forest.py`` holds it to 1e-12, with
missing values and categorical features).
"""

from __future__ import annotations

import tempfile
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import lleaves

COMPILE_ROWS = 100_000
"""Batches of at least this many rows are predicted by the compiled forest: compiling costs
about as much as LightGBM predicting 100,000 rows, whatever the number of trees (both grow with
it)."""

_compiled: weakref.WeakKeyDictionary[lgb.Booster, Future[lleaves.Model]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()
_compiler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="forest-compile")


def _compile(model_text: str) -> lleaves.Model:
    import lleaves  # LLVM takes about half a second to import; only large batches need it

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.txt"
        path.write_text(model_text)
        forest = lleaves.Model(model_file=str(path))
        forest.compile()
    return forest


def _future(booster: lgb.Booster) -> Future[lleaves.Model]:
    with _lock:
        future = _compiled.get(booster)
        if future is None:
            future = _compiler.submit(_compile, booster.model_to_string())
            _compiled[booster] = future
        return future


def compiled(booster: lgb.Booster) -> lleaves.Model:
    """The booster's forest compiled by lleaves (compiled on first use, then kept while the
    booster lives). The booster must not be changed afterwards."""
    return _future(booster).result()


def expect(booster: lgb.Booster, rows: int, *, compile_rows: int = COMPILE_ROWS) -> None:
    """Announce a batch of ``rows`` rows: when :func:`predict` will compile the forest for it,
    start compiling now, in a background thread, so the caller's own work meanwhile (building
    the batch's features) overlaps it."""
    if rows >= compile_rows:
        _future(booster)


def predict(
    booster: lgb.Booster,
    x: npt.NDArray[np.float32],
    *,
    num_threads: int = 1,
    compile_rows: int = COMPILE_ROWS,
) -> npt.NDArray[np.float64]:
    """The booster's predictions (probabilities for a binary objective) of the rows of ``x``:
    by LightGBM below ``compile_rows`` rows, by the compiled forest from there on."""
    if len(x) < compile_rows:
        return np.asarray(booster.predict(x, num_threads=num_threads), dtype=np.float64)
    return np.asarray(compiled(booster).predict(x, n_jobs=num_threads), dtype=np.float64)


__all__ = ["COMPILE_ROWS", "compiled", "expect", "predict"]
