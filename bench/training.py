"""Training benchmark: quality on seeded worlds, and the cost of the job at 500,000 logged rows.

Run: ``python bench/training.py [--quick]``. Prints, from one run on this machine:
1. uplift captured (SPEC §5) at top-1 and top-5 for the model, every baseline, the oracle and the
   profile-only oracle, on the shipped world and on seeded worlds of other size and history depth;
2. at ~500,000 logged rows: feature-building pairs/s (out-of-fold, on the job's one encoding of
   the pool and intakes), the whole job's wall time per phase (``TrainResult.timings``: encode,
   pipeline, features, fit, score_holdout, baselines, evaluate, fairness, serving_record, gate
   (promotion evidence on the job's held-out scoring: the candidate is not scored again, a
   champion once; the off-policy terms), mlflow) against the raw
   LightGBM fit of the same matrices with the same rounds (SPEC §6 target:
   job ≤ 1.3 × raw fit + a fixed MLflow cost).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# This file is named like the `training` package; keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import tempfile  # noqa: E402
import time  # noqa: E402

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.settings import Settings  # noqa: E402
from features.dataset import load_dataset  # noqa: E402
from features.encoding import TherapistPool  # noqa: E402
from features.outcomes import good_outcome, has_outcome  # noqa: E402
from features.pipeline import FeaturePipeline  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.job import fit_and_evaluate, load_truth, run_training  # noqa: E402
from training.labels import graded_label  # noqa: E402
from training.matrices import logged_rows  # noqa: E402
from training.splits import subset, time_split  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
RANKERS = ["model", "rules", "logistic", "lambdarank_logged", "random", "profile_oracle", "oracle"]


def quality(worlds: dict[str, tuple]) -> pd.DataFrame:
    """Uplift table: one row per (world, ranker)."""
    rows = []
    for name, (dataset, truth) in worlds.items():
        result = fit_and_evaluate(dataset, TrainConfig(), truth=truth)
        table = result.scorecard
        for ranker in RANKERS:
            rows.append(
                {
                    "world": name,
                    "ranker": ranker,
                    "uplift@1": table.loc[ranker, "uplift_at_1"],
                    "uplift@5": table.loc[ranker, "uplift_at_5"],
                    "ndcg@5": table.loc[ranker].get("ndcg_at_5", np.nan),
                }
            )
    return pd.DataFrame(rows)


def scale(n_therapists: int, n_intakes: int) -> None:
    """Feature throughput and job-vs-raw-fit at scale."""
    t0 = time.perf_counter()
    world = generate_world(WorldConfig(n_therapists=n_therapists, n_intakes=n_intakes, seed=3))
    print(
        f"\nworld {n_therapists:,} × {n_intakes:,}: {len(world.dataset.interactions):,} logged "
        f"rows, generated in {time.perf_counter() - t0:.1f} s"
    )
    config = TrainConfig(baselines=False)
    ds = world.dataset
    train_ids, _ = time_split(ds, config.holdout_fraction)
    train = subset(ds, train_ids)
    t0 = time.perf_counter()
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    t_encode = time.perf_counter() - t0
    pipe = FeaturePipeline().fit(train, pool, batch)
    t0 = time.perf_counter()
    pipe.intake_text(batch)
    t_text = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = logged_rows(pipe, train, pool, folds=config.folds, batch=batch)
    t_feat = time.perf_counter() - t0
    print(
        f"once per job: pool + {len(batch):,} intakes encoded {t_encode:.2f} s, free texts "
        f"embedded {t_text:.2f} s"
    )
    print(
        f"feature building (5-fold out-of-fold track records, on the job's encodings): "
        f"{len(rows.x):,} pairs in {t_feat:.2f} s = {len(rows.x) / t_feat:,.0f} pairs/s "
        f"(target ≥ 500,000); with the encoding and embedding counted: "
        f"{len(rows.x) / (t_feat + t_encode + t_text):,.0f} pairs/s"
    )
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), tracking_uri=f"sqlite:///{home}/mlflow.db")
        t0 = time.perf_counter()
        result = run_training(ds, config, settings, truth=world.truth)
        t_job = time.perf_counter() - t0
    inter = train.interactions
    started = has_outcome(inter)
    params = {**config.booster, "seed": config.seed}
    x_eng = np.hstack([rows.x, inter["position"].to_numpy(dtype=np.float32)[:, None]])
    y_eng = (graded_label(inter) >= 2).astype(float)
    t0 = time.perf_counter()
    lgb.train(
        params,
        lgb.Dataset(rows.x[started], good_outcome(inter)[started].astype(float)),
        num_boost_round=result.fit.outcome_rounds,
    )
    lgb.train(params, lgb.Dataset(x_eng, y_eng), num_boost_round=result.fit.engagement_rounds)
    t_raw = time.perf_counter() - t0
    mlflow_s = result.timings.get("mlflow", 0.0)
    print(
        f"\nwhole job {t_job:.1f} s; raw LightGBM fit of the same matrices, same rounds: "
        f"{t_raw:.1f} s"
    )
    print(f"{'phase':<16}{'seconds':>9}{'÷ raw fit':>11}")
    for phase, seconds in result.timings.items():
        print(f"{phase:<16}{seconds:>9.2f}{seconds / t_raw:>11.3f}")
    print(
        f"job without the fixed MLflow cost / raw fit = {(t_job - mlflow_s) / t_raw:.2f}x "
        f"(target ≤ 1.3x); MLflow log + register {mlflow_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller scale run")
    args = parser.parse_args()
    sample = load_dataset(SAMPLE)
    size = f"{len(sample.therapists)}×{len(sample.intakes)}"
    worlds = {f"shipped sample ({size})": (sample, load_truth(SAMPLE))}
    for n_t, n_i, seed in ((300, 10000, 3), (600, 20000, 21), (300, 8000, 11)):
        w = generate_world(WorldConfig(n_therapists=n_t, n_intakes=n_i, seed=seed))
        worlds[f"seed {seed} ({n_t}×{n_i})"] = (w.dataset, w.truth)
    table = quality(worlds)
    pd.set_option("display.width", 160)
    print(
        table.pivot(index="ranker", columns="world", values="uplift@5")
        .loc[RANKERS]
        .round(3)
        .to_string(),
        "\n(uplift captured at top-5)\n",
    )
    print(
        table.pivot(index="ranker", columns="world", values="uplift@1")
        .loc[RANKERS]
        .round(3)
        .to_string(),
        "\n(uplift captured at top-1)",
    )
    scale(1000, 20000) if args.quick else scale(2000, 65000)


if __name__ == "__main__":
    main()
