"""Predicting a LightGBM forest on large batches: compiled to machine code once, then reused.

LightGBM's ``predict`` walks every tree for every row, about 15–20 ns per row and tree on two
threads here: the training job's held-out scoring (about 230,000 candidate pairs × 3,000
engagement trees at 65,000 intakes) spent ten seconds in it. lleaves compiles the forest with
LLVM into one function (about 1.7 ms per tree, once per booster) that predicts the same batch
twenty to forty times faster, so batches of at least :data:`COMPILE_ROWS` rows use the compiled
forest and smaller ones (every serving request) LightGBM itself. Compiling runs in child
processes, one chunk of consecutive trees per core, whose raw scores are summed before the
objective's link: 3,000 trees compile in about 1.9 s on two cores instead of 5.5 s in one thread
(the children also generate code at LLVM's -O0, :mod:`matcher.forest_child`), and the caller's
own work meanwhile keeps the GIL.

The compiled forest returns LightGBM's predictions up to the order in which leaf values are
summed (differences of the order of 1e-15; ``tests/test_forest.py`` holds it to 1e-12, with
missing values and categorical features).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
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

_compiled: weakref.WeakKeyDictionary[lgb.Booster, Future[CompiledForest | lleaves.Model]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()
_compiler = ThreadPoolExecutor(max_workers=2, thread_name_prefix="forest-compile")


CHUNK_TREES = 500
"""Forests of more trees are split into consecutive chunks (at most one per core) compiled in
parallel, each in its own process: compiling is single-threaded and linear in the trees."""

_CHILD = Path(__file__).with_name("forest_child.py")
"""The program a compiling process runs (:mod:`matcher.forest_child`): compile a model file
(to raw scores or with its objective) and write the machine code to the cache file. It runs
with ``-P``: this folder's modules are not put on its import path."""


@dataclass(frozen=True)
class CompiledForest:
    """A forest compiled as consecutive chunks of trees: the prediction is the objective's
    link of the sum of the chunks' raw scores (one chunk for small forests)."""

    chunks: tuple[lleaves.Model, ...]
    sigmoid: float | None
    """``σ(s·raw)`` with this ``s`` for a binary objective; None: the chunks' own predictions
    summed (regression's raw score, or one chunk compiled with its objective)."""

    def predict(self, x: npt.NDArray[np.float32], n_jobs: int = 1) -> npt.NDArray[np.float64]:
        """Predictions of the rows of ``x`` (probabilities for a binary objective)."""
        raw = np.asarray(self.chunks[0].predict(x, n_jobs=n_jobs), dtype=np.float64)
        for chunk in self.chunks[1:]:
            raw = raw + chunk.predict(x, n_jobs=n_jobs)
        if self.sigmoid is None:
            return raw
        return np.asarray(1.0 / (1.0 + np.exp(-self.sigmoid * raw)), dtype=np.float64)


def _link(model_text: str) -> tuple[bool, float | None]:
    """(whether the forest's prediction is a link of its raw score we can apply to a sum of
    chunks, the sigmoid parameter of a binary objective or None for regression's identity)."""
    line = next((x for x in model_text.splitlines() if x.startswith("objective=")), "")
    words = line.removeprefix("objective=").split()
    if words[:1] == ["binary"]:
        return True, next((float(w[8:]) for w in words if w.startswith("sigmoid:")), 1.0)
    return words[:1] == ["regression"], None


def _n_chunks(booster: lgb.Booster, iterations: int, linkable: bool) -> int:
    """How many processes compile ``booster``: one per :data:`CHUNK_TREES` trees, at most one
    per core; one (the whole forest, with its objective) unless ``linkable``."""
    if not linkable or booster.num_model_per_iteration() != 1:
        return 1
    by_size = -(-iterations // CHUNK_TREES)
    return max(1, min(by_size, os.cpu_count() or 1))


@dataclass(frozen=True)
class _Plan:
    """What compiling a booster needs, read off it in the caller's thread: LightGBM's
    ``model_to_string`` runs an OpenMP loop, and one called from the compile thread would leave
    a second OpenMP team behind that slowed every later fit in the process by about 14%."""

    whole: str
    """The model text (at its best iteration)."""
    chunks: tuple[str, ...]
    """The model texts of consecutive chunks of its trees (the whole text when one chunk)."""
    linkable: bool
    sigmoid: float | None

    @classmethod
    def of(cls, booster: lgb.Booster) -> _Plan:
        text = booster.model_to_string()
        linkable, sigmoid = _link(text)
        last = booster.current_iteration()
        best = booster.best_iteration  # 0 without early stopping, -1 when read from a file
        iterations = best if 0 < best < last else last  # what predict uses
        n = _n_chunks(booster, iterations, linkable)
        if n == 1:
            return cls(text, (text,), linkable, sigmoid)
        bounds = np.linspace(0, iterations, n + 1).astype(int).tolist()
        chunks = tuple(
            booster.model_to_string(num_iteration=hi - lo, start_iteration=lo)
            for lo, hi in itertools.pairwise(bounds)
        )
        return cls(text, chunks, linkable, sigmoid)


def _compile(plan: _Plan) -> CompiledForest | lleaves.Model:
    """Compile the forest in child Python processes, then load their machine code here.

    Generating the LLVM IR is Python code: in a thread of this process it would hold the GIL
    for seconds and stall the numpy work the caller overlaps with it. The children run on the
    other cores instead, a chunk of trees each. When a child cannot run, the forest is compiled
    whole in this thread.
    """
    import lleaves  # LLVM takes about half a second to import; only large batches need it

    raw = "raw" if plan.linkable else "objective"
    with tempfile.TemporaryDirectory() as folder:
        files = [Path(folder) / f"chunk{k}.txt" for k in range(len(plan.chunks))]
        caches = [f.with_suffix(".o") for f in files]
        for f, text in zip(files, plan.chunks, strict=True):
            f.write_text(text)
        children: list[subprocess.Popen[bytes]] = []
        try:
            for f, c in zip(files, caches, strict=True):
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-P", str(_CHILD), str(f), str(c), raw],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        except OSError:
            pass  # the children started are still waited for: none outlives the folder
        codes = [child.wait() for child in children]
        if len(codes) < len(files) or any(codes):
            whole = Path(folder) / "whole.txt"
            whole.write_text(plan.whole)
            forest = lleaves.Model(model_file=str(whole))
            forest.compile()
            return forest
        chunks = []
        for f, c in zip(files, caches, strict=True):
            chunk = lleaves.Model(model_file=str(f))
            chunk.compile(cache=str(c), raw_score=plan.linkable)
            chunks.append(chunk)
    return CompiledForest(tuple(chunks), plan.sigmoid)


def _future(booster: lgb.Booster) -> Future[CompiledForest | lleaves.Model]:
    with _lock:
        future = _compiled.get(booster)
        if future is None:
            future = _compiler.submit(_compile, _Plan.of(booster))
            _compiled[booster] = future
        return future


def compiled(booster: lgb.Booster) -> CompiledForest | lleaves.Model:
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


__all__ = ["CHUNK_TREES", "COMPILE_ROWS", "CompiledForest", "compiled", "expect", "predict"]
