"""Benchmark: batch allocation (exact max-benefit assignment) vs greedy top-1 (SPEC §3).

Run from the repository root: ``python bench/allocation.py`` (``--help`` for options).

For each cohort size a seeded synthetic world (:mod:`synth`) supplies therapists and
intakes; its hidden model gives the TRUE benefit P(good outcome) of every eligible pair. The
methods rank by a *predicted* benefit = true + N(0, noise²), clipped to [0, 1], and are scored
on the true benefit. Capacity is made scarce and uneven: each therapist's real open slots are
scaled so the cohort-wide total is ``--capacity`` × cohort size (stochastic rounding).

Methods (all over the same eligible pairs; crisis intakes are left out, as in serving):
  * top-1, no capacity — everyone takes their own best: the naive baseline that overloads;
  * greedy top-1      — intakes in submission order take their best therapist with a free slot;
  * optimal           — :func:`matcher.allocation.allocate`, max Σ predicted benefit.
Overloads = Σ_j max(0, assigned_j − slots_j).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds scripts named like the packages (features.py, training.py); keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Cohort:
    """One benchmark instance: eligible pairs with true/predicted benefit and open slots."""

    intake_idx: I64
    therapist_idx: I64
    true: F64
    predicted: F64
    slots: I64
    n_intakes: int
    n_therapists: int


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    method: str
    placed: float
    total_true: float
    mean_true: float
    overloads: int
    seconds: float


def build_cohort(size: int, *, seed: int, capacity: float, noise: float) -> Cohort:
    """A cohort of ``size`` non-crisis intakes from a seeded synthetic world."""
    from features.encoding import TherapistPool
    from matcher.eligibility import eligible_pairs
    from matcher.triage import Route, triage
    from synth import WorldConfig, generate_world

    config = WorldConfig(n_therapists=max(150, size // 2), n_intakes=int(size * 1.1), seed=seed)
    world = generate_world(config)
    therapists, intakes = world.dataset.therapists, world.dataset.intakes
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    ok = np.flatnonzero(triage(batch).route != Route.CRISIS)[:size]
    cohort = intakes.iloc[ok]
    batch = pool.encode_intakes(cohort)
    pairs = eligible_pairs(batch, pool).pairs
    true = world.truth.p_good(
        cohort, therapists, batch.ids[pairs.intake_idx], pool.ids[pairs.therapist_idx]
    )
    rng = np.random.default_rng(seed)
    predicted = np.clip(true + rng.normal(0.0, noise, len(true)), 0.0, 1.0)
    open_slots = pool.open_slots.astype(np.float64)
    scaled = open_slots * capacity * len(batch) / max(open_slots.sum(), 1.0)
    slots = np.floor(scaled + rng.random(len(scaled))).astype(np.int64)
    return Cohort(
        pairs.intake_idx, pairs.therapist_idx, true, predicted, slots, len(batch), len(pool)
    )


def evaluate(name: str, cohort: Cohort, solve: Callable[[], I64]) -> Row:
    """Run ``solve`` once and score its assignment on the true benefit."""
    from features.encoding import Pairs
    from matcher.allocation import assigned_pair

    start = time.perf_counter()
    assignment = solve()
    seconds = time.perf_counter() - start
    idx = assigned_pair(Pairs(cohort.intake_idx, cohort.therapist_idx), assignment)
    true = cohort.true[idx[idx >= 0]]
    counts = np.bincount(assignment[assignment >= 0], minlength=cohort.n_therapists)
    return Row(
        method=name,
        placed=float(np.mean(assignment >= 0)) if cohort.n_intakes else 0.0,
        total_true=float(true.sum()),
        mean_true=float(true.mean()) if len(true) else float("nan"),
        overloads=int(np.maximum(counts - cohort.slots, 0).sum()),
        seconds=seconds,
    )


def run(cohort: Cohort) -> list[Row]:
    """The three methods on one cohort."""
    from features.encoding import Pairs
    from matcher.allocation import allocate, greedy_top1

    pairs = Pairs(cohort.intake_idx, cohort.therapist_idx)
    n, b = cohort.n_intakes, cohort.predicted
    unbounded = np.full(cohort.n_therapists, np.inf)
    return [
        evaluate("top-1, no capacity", cohort, lambda: greedy_top1(pairs, b, unbounded, n)),
        evaluate("greedy top-1", cohort, lambda: greedy_top1(pairs, b, cohort.slots, n)),
        evaluate("optimal (allocate)", cohort, lambda: allocate(pairs, b, cohort.slots, n)),
    ]


def main(argv: list[str] | None = None) -> None:
    """Print one table over the requested cohort sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000])
    parser.add_argument("--capacity", type=float, default=0.6, help="total slots / cohort size")
    parser.add_argument("--noise", type=float, default=0.05, help="SD of prediction noise")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    header = (
        f"{'cohort':>6} {'slots':>6} {'pairs':>8}  {'method':<19} {'placed':>7} "
        f"{'Σ true':>8} {'mean true':>9} {'overloads':>9} {'time ms':>8} {'Σ vs greedy':>11}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        cohort = build_cohort(size, seed=args.seed, capacity=args.capacity, noise=args.noise)
        rows = run(cohort)
        greedy_total = rows[1].total_true
        for row in rows:
            ratio = row.total_true / greedy_total if greedy_total else float("nan")
            print(
                f"{cohort.n_intakes:>6} {int(cohort.slots.sum()):>6} {len(cohort.true):>8}  "
                f"{row.method:<19} {row.placed:>7.1%} {row.total_true:>8.2f} "
                f"{row.mean_true:>9.4f} {row.overloads:>9} {row.seconds * 1e3:>8.1f} "
                f"{ratio:>10.3f}x"
            )
    print(
        f"\nseed {args.seed}; capacity {args.capacity:.0%} of the cohort; prediction = "
        f"true + N(0, {args.noise}²); 'true' = the world's hidden P(good outcome)."
    )


if __name__ == "__main__":
    main()
