"""Training benchmark: quality on seeded worlds, and the cost of the job at 500,000 logged rows.

Run: ``python bench/training.py [--quick] [--world DIR] [--no-quality]``. ``--world`` reads the
scale world from a folder ``matcher synth`` wrote (``matcher synth --out DIR --therapists 2000
--intakes 65000 --seed 3`` is the default scale world; generating it takes minutes) instead of
generating it. Prints, from one run on this machine:
1. uplift captured (SPEC §5) at top-1 and top-5 for the model, every baseline, the oracle and the
   profile-only oracle, on the shipped world and on seeded worlds of other size and history depth;
2. at ~500,000 logged rows: feature-building pairs/s (out-of-fold, on the job's one encoding of
   the pool and intakes), the whole job's wall time per phase (``TrainResult.timings``: encode,
   pipeline, features, fit, score_holdout, baselines, evaluate, fairness, serving_record, gate
   (promotion evidence on the job's held-out scoring: the candidate is not scored again, a
   champion once; the off-policy terms), mlflow) against the raw LightGBM fit of the same
   matrices with the same rounds and booster specification (parameters, monotone constraints,
   categorical features) (SPEC §6 target: job ≤ 1.3 × raw fit + a fixed MLflow cost). The
   held-out scoring predicts at most ``TrainConfig.max_eval_intakes`` intakes' eligible pairs.
   LightGBM's threads slow down sharply when other processes hold the cores: compare runs made
   on the same machine state.
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
from features.pipeline import FEATURE_NAMES, FeaturePipeline  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.fit import booster_params, categorical_features, engagement_matrix  # noqa: E402
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


def scale(n_therapists: int, n_intakes: int, folder: Path | None = None) -> None:
    """Feature throughput and job-vs-raw-fit at scale (on the world in ``folder`` if given)."""
    t0 = time.perf_counter()
    if folder is not None:
        ds, truth = load_dataset(folder), load_truth(folder)
        how = f"read from {folder}"
    else:
        world = generate_world(WorldConfig(n_therapists=n_therapists, n_intakes=n_intakes, seed=3))
        ds, truth, how = world.dataset, world.truth, "generated"
    print(
        f"\nworld {len(ds.therapists):,} × {len(ds.intakes):,}: {len(ds.interactions):,} logged "
        f"rows, {how} in {time.perf_counter() - t0:.1f} s"
    )
    config = TrainConfig(baselines=False)
    train_ids, _ = time_split(ds, config.holdout_fraction)
    train = subset(ds, train_ids)
    t0 = time.perf_counter()
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    t_encode = time.perf_counter() - t0
    pipe = FeaturePipeline().fit(train, pool, batch)
    t0 = time.perf_counter()
    pipe.text_.transform(batch.free_text)  # what the job's one embedding of the texts costs
    t_text = time.perf_counter() - t0
    repeats = []
    for _ in range(3):
        t0 = time.perf_counter()
        rows = logged_rows(pipe, train, pool, folds=config.folds, batch=batch)
        repeats.append(time.perf_counter() - t0)
    t_feat = float(np.median(repeats))
    print(
        f"once per job: pool + {len(batch):,} intakes encoded {t_encode:.2f} s, free texts "
        f"embedded {t_text:.2f} s"
    )
    print(
        f"feature building (5-fold out-of-fold track records, on the job's encodings; median of "
        f"{', '.join(f'{r:.2f}' for r in repeats)} s): {len(rows.x):,} pairs in {t_feat:.2f} s "
        f"= {len(rows.x) / t_feat:,.0f} pairs/s (target ≥ 500,000); with the encoding and "
        "embedding counted: "
        f"{len(rows.x) / (t_feat + t_encode + t_text):,.0f} pairs/s"
    )
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), tracking_uri=f"sqlite:///{home}/mlflow.db")
        t0 = time.perf_counter()
        result = run_training(ds, config, settings, truth=truth)
        t_job = time.perf_counter() - t0
    inter = train.interactions
    started = has_outcome(inter)
    # The same booster specification as the job's (parameters, monotone constraints and the
    # categorical declaration), on the same matrices: only the job's own work is left out.
    names = list(FEATURE_NAMES)
    eng_names = [*names, "position"]
    x_eng = engagement_matrix(rows.x, inter["position"].to_numpy(dtype=np.float32)[:, None], config)
    y_eng = (graded_label(inter) >= 2).astype(float)
    t0 = time.perf_counter()
    lgb.train(
        booster_params(config, names),
        lgb.Dataset(
            rows.x[started],
            good_outcome(inter)[started].astype(float),
            feature_name=names,
            categorical_feature=categorical_features(names),
        ),
        num_boost_round=result.fit.outcome_rounds,
    )
    lgb.train(
        booster_params(config, eng_names),
        lgb.Dataset(
            x_eng,
            y_eng,
            feature_name=eng_names,
            categorical_feature=categorical_features(eng_names),
        ),
        num_boost_round=result.fit.engagement_rounds,
    )
    t_raw = time.perf_counter() - t0
    mlflow_s = result.timings.get("mlflow", 0.0)
    card = result.scorecard
    print(
        f"model on this world: uplift@5 {card.loc['model', 'uplift_at_5']:.3f} (profile-only "
        f"oracle {card.loc['profile_oracle', 'uplift_at_5']:.3f}); rounds: outcome "
        f"{result.fit.outcome_rounds} on {result.fit.outcome_rows:,} rows, engagement "
        f"{result.fit.engagement_rounds} on {result.fit.engagement_rows:,} rows"
    )
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
    parser.add_argument("--world", type=Path, help="scale world folder (matcher synth --out)")
    parser.add_argument("--no-quality", action="store_true", help="skip the uplift tables")
    args = parser.parse_args()
    size = (1000, 20000) if args.quick else (2000, 65000)
    if not args.no_quality:
        quality_tables()
    scale(*size, args.world)


def quality_tables() -> None:
    """Print uplift@5 and uplift@1 of every ranker on the shipped and three seeded worlds."""
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


if __name__ == "__main__":
    main()
