"""Serving processes parallelise across requests and workers, not inside BLAS calls."""

from __future__ import annotations

import numpy  # noqa: F401  (loads numpy's BLAS, the library threadpoolctl reports)
from threadpoolctl import threadpool_info, threadpool_limits

from cli.serve import limit_blas_threads


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_serving_process_gets_one_blas_thread() -> None:
    """`limit_blas_threads` (run by `matcher serve` and by each `--workers` process) leaves
    numpy's BLAS one thread, whatever it had."""
    assert _blas_threads(), "numpy's BLAS is not loaded"
    before = threadpool_info()
    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == {2}
        limit_blas_threads()
        assert _blas_threads() == {1}
    assert threadpool_info() == before
