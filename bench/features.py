"""Feature-building and eligibility throughput, and synthetic-world generation time.

Run: ``python bench/features.py`` (prints one table; figures from one run on this machine).
Target (SPEC §6): feature building ≥ 500,000 pairs/s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# This file is named like the `features` package; keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from features.encoding import Pairs, TherapistPool  # noqa: E402
from features.pipeline import FeaturePipeline  # noqa: E402
from matcher.eligibility import eligible_pairs, filter_pairs  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    """Fastest of ``repeat`` wall-clock runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    start = time.perf_counter()
    world = generate_world(WorldConfig(n_therapists=2000, n_intakes=50_000, seed=1))
    synth_seconds = time.perf_counter() - start
    ds = world.dataset
    pool = TherapistPool.from_frame(ds.therapists)
    pipe = FeaturePipeline().fit(ds)
    batch = pool.encode_intakes(ds.intakes)
    text = pipe.text_.transform(batch.free_text)
    rng = np.random.default_rng(0)
    rows = []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        pairs = Pairs(rng.integers(0, len(batch), n), rng.integers(0, len(pool), n))
        pipe.transform(batch, pool, pairs, intake_text=text)  # warm the per-pool cache
        t_feat = best_of(lambda p=pairs: pipe.transform(batch, pool, p, intake_text=text))
        t_elig = best_of(lambda p=pairs: filter_pairs(batch, pool, p))
        rows.append((f"{n:,} random pairs", n, t_feat, t_elig))
    sub = ds.intakes.head(500)
    sub_batch = pool.encode_intakes(sub)
    cross = Pairs.cross(500, len(pool))
    sub_text = pipe.text_.transform(sub_batch.free_text)
    t_feat = best_of(lambda: pipe.transform(sub_batch, pool, cross, intake_text=sub_text))
    t_elig = best_of(lambda: eligible_pairs(sub_batch, pool))
    rows.append(("2,000 therapists × 500 intakes", len(cross), t_feat, t_elig))
    print(
        f"synthetic world 2,000 therapists × 50,000 intakes: {synth_seconds:.1f} s "
        f"({len(ds.interactions):,} logged rows)"
    )
    print(
        f"{'workload':34} {'pairs':>10} {'features s':>11} {'pairs/s':>12} {'vs target':>9}"
        f" {'eligibility s':>13} {'pairs/s':>12}"
    )
    for name, n, tf, te in rows:
        print(
            f"{name:34} {n:>10,} {tf:>11.4f} {n / tf:>12,.0f} {n / tf / 500_000:>8.1f}x"
            f" {te:>13.4f} {n / te:>12,.0f}"
        )


if __name__ == "__main__":
    main()
