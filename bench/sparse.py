"""Sparse-history benchmark: what each therapist track record adds when histories are short.

Run: ``python bench/sparse.py [--seeds 3] [--scale 1.0]``. Prints, from one run on this machine:

1. an ablation table of uplift captured at top-5 (SPEC §5) on *sparse* worlds (≈13 intakes, ≈10
   logged outcomes per therapist) and *dense* ones (≈33 intakes per therapist), mean and range
   over seeds: the model with main's records (baseline), then + alliance records, + dropout
   records, + hierarchical shrinkage, + all (``TrainConfig.records``, one code path), beside the
   profile-only oracle, the empirical-Bayes oracle (:mod:`synth.posterior`: the world's true
   outcome model and prior, each therapist's traits inferred from the training split's logged
   courses, with and without the alliance ratings — the ceiling of learning track records from
   these histories) and the oracle;
2. the median number of booked outcomes per active therapist of each world kind.

New therapists' exposure (no history at all) is measured through the engine by
``bench/new_therapists.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import pandas as pd  # noqa: E402

from core.ranking import (  # noqa: E402
    random_topk_mean,
    topk_mean,
    uplift_captured,
)
from features.dataset import Dataset  # noqa: E402
from features.track_record import RecordOptions  # noqa: E402
from synth import SyntheticWorld, WorldConfig, generate_world  # noqa: E402
from synth.posterior import fit_posterior, posterior_p_good  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.heldout import HeldOut  # noqa: E402
from training.job import TrainResult, fit_and_evaluate  # noqa: E402
from training.splits import subset, time_split  # noqa: E402

ABLATION: dict[str, RecordOptions] = {
    "baseline": RecordOptions(alliance=False, dropout=False, hierarchical=False),
    "+ alliance": RecordOptions(alliance=True, dropout=False, hierarchical=False),
    "+ dropout": RecordOptions(alliance=False, dropout=True, hierarchical=False),
    "+ hierarchical": RecordOptions(alliance=False, dropout=False, hierarchical=True),
    "+ alliance + dropout": RecordOptions(alliance=True, dropout=True, hierarchical=False),
    "+ all": RecordOptions(alliance=True, dropout=True, hierarchical=True),
}
"""Record configurations compared; ``+ all`` is the default (RecordOptions())."""
WORLDS = {"sparse": (600, 8000), "dense": (300, 10000)}
"""(therapists, intakes) per world kind; ``--scale`` multiplies both."""
EB_ORACLES = {"eb_oracle": True, "eb_oracle_no_alliance": False}
"""Empirical-Bayes oracle rows: name → whether its likelihood reads the alliance ratings."""
REFERENCES = ("profile_oracle", *EB_ORACLES, "oracle")
"""Rows computed once per world (beside the first record configuration)."""


@dataclass(frozen=True)
class Row:
    world: str
    seed: int
    ranker: str
    uplift_at_5: float
    outcomes_per_therapist: float


def _outcomes_per_therapist(dataset: Dataset) -> float:
    inter = dataset.interactions
    booked = inter[inter["chosen"].astype(bool)]
    return float(booked.groupby("therapist_id").size().median())


def eb_oracle_uplift(
    world: SyntheticWorld, result: TrainResult, train: TrainConfig, *, alliance: bool, k: int = 5
) -> float:
    """Uplift@k of the empirical-Bayes oracle on the scorecard's held-out candidates: posterior
    E[P(good) | training split] (:func:`synth.posterior.fit_posterior`), scored against the
    truth with the scorecard's formulas (:mod:`core.ranking`)."""
    heldout: HeldOut | None = result.heldout
    assert heldout is not None
    cand, pool = heldout.candidates, heldout.pool
    p_true, group = cand.p_true, cand.group
    assert p_true is not None
    train_ids, _ = time_split(world.dataset, train.holdout_fraction, seed=train.seed)
    history = subset(world.dataset, train_ids)
    posterior = fit_posterior(world.truth, history, pool, alliance=alliance, seed=train.seed)
    score = posterior_p_good(world.truth, posterior, cand.batch, pool, cand.pairs)
    u_random = random_topk_mean(group, p_true)
    u_oracle = topk_mean(group, p_true, p_true, k)
    return uplift_captured(topk_mean(group, score, p_true, k), u_random, u_oracle)


def ablation(seeds: list[int], scale: float, worlds: list[str], configs: list[str]) -> pd.DataFrame:
    """Uplift@5 of each record configuration, the profile-only, empirical-Bayes and true
    oracles."""
    rows: list[Row] = []
    for kind in worlds:
        n_t, n_i = WORLDS[kind]
        for seed in seeds:
            t0 = time.perf_counter()
            config = WorldConfig(
                n_therapists=int(n_t * scale), n_intakes=int(n_i * scale), seed=seed
            )
            world = generate_world(config)
            per = _outcomes_per_therapist(world.dataset)
            print(f"{kind} seed {seed}: generated in {time.perf_counter() - t0:.0f} s", flush=True)
            for name in configs:
                options = ABLATION[name]
                t0 = time.perf_counter()
                train = TrainConfig(seed=0, baselines=False, records=options)
                result = fit_and_evaluate(world.dataset, train, truth=world.truth)
                up = result.scorecard["uplift_at_5"]
                rows.append(Row(kind, seed, name, float(up["model"]), per))
                if name == configs[0]:
                    for ref in ("profile_oracle", "oracle"):
                        rows.append(Row(kind, seed, ref, float(up[ref]), per))
                    t1 = time.perf_counter()
                    for ref, alliance in EB_ORACLES.items():
                        eb = eb_oracle_uplift(world, result, train, alliance=alliance)
                        rows.append(Row(kind, seed, ref, eb, per))
                    print(f"  eb oracles ({time.perf_counter() - t1:.0f} s)", flush=True)
                print(
                    f"  {name:<15} uplift@5 {up['model']:.3f} ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated kinds")
    parser.add_argument("--configs", default=",".join(ABLATION), help="comma-separated rows")
    args = parser.parse_args()
    worlds, configs = args.worlds.split(","), args.configs.split(",")
    pd.set_option("display.width", 200)
    table = ablation(list(range(1, args.seeds + 1)), args.scale, worlds, configs)
    summary = table.groupby(["ranker", "world"])["uplift_at_5"].agg(["mean", "min", "max"])
    wide = summary["mean"].unstack("world")
    order = [*configs, *REFERENCES]
    wide = wide.loc[order]
    for kind in worlds:
        wide[f"{kind} Δ"] = wide[kind] - wide.loc[configs[0], kind]
        spread = summary.xs(kind, level="world")
        wide[f"{kind} range"] = [
            f"{spread.loc[r, 'min']:.3f}–{spread.loc[r, 'max']:.3f}" for r in order
        ]
    per = table.groupby("world")["outcomes_per_therapist"].mean()
    print("\nuplift captured at top-5, mean over seeds", list(range(1, args.seeds + 1)))
    print(wide.round(3).to_string())
    print("median booked outcomes per active therapist:", per.round(1).to_dict())


if __name__ == "__main__":
    main()
