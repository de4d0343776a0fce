"""Scale-out training on an existing Dask cluster (``matcher train --engine dask``).

Logged rows are split into partitions of whole intakes (query groups never straddle two); each
partition's features are built on a worker by the local engine's out-of-fold routine
(:func:`training.matrices.logged_rows`) with the folds and track records fitted once on the
client; the boosters are fitted with ``lightgbm.dask`` from the same parameter builder as the
local engine (:func:`training.fit.booster_params`: monotone constraints, categorical features).
Limits: ``lightgbm.dask`` has no early stopping, so the number of rounds is fixed
(``TrainConfig.dask_rounds``); baselines are not fitted (they need every row in memory).
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
from dask import delayed
from distributed import Client
from lightgbm.dask import DaskLGBMClassifier

from features.dataset import Dataset
from features.encoding import IntakeBatch, TherapistPool
from features.outcomes import has_outcome
from features.pipeline import FEATURE_NAMES, FeaturePipeline
from matcher.model import MatchModel
from training.config import TrainConfig
from training.fit import (
    Targets,
    booster_params,
    categorical_features,
    engagement_matrix,
    outcome_linear,
    with_prefilter,
)
from training.matrices import Folds, logged_rows
from training.splits import subset

F32 = npt.NDArray[np.float32]


def _partition(
    pipeline: FeaturePipeline,
    pool: TherapistPool,
    part: Dataset,
    *,
    folds: Folds,
    config: TrainConfig,
) -> dict[str, Any]:
    """Features and labels of one partition (runs on a worker): the local engine's out-of-fold
    routine (:func:`~training.matrices.logged_rows`) with the job's folds and records."""
    rows = logged_rows(pipeline, part, pool, folds=folds)
    t = Targets.of(part.interactions, config)
    return {
        "x_outcome": rows.x[t.started],
        "y_outcome": t.good[t.started],
        "x_engage": engagement_matrix(rows.x, t.position, config),
        "y_engage": t.engaged,
    }


def dask_params(config: TrainConfig, feature_names: list[str]) -> dict[str, Any]:
    """:func:`~training.fit.booster_params` in the estimator spelling ``lightgbm.dask`` takes:
    ``random_state`` for the seed, a fixed ``n_estimators`` (no early stopping)."""
    params = booster_params(config, feature_names)
    seed = params.pop("seed")
    params.pop("deterministic", None)
    return params | {"n_estimators": config.dask_rounds, "random_state": seed, "verbose": -1}


def fit_boosters_dask(
    pipeline: FeaturePipeline,
    train: Dataset,
    pool: TherapistPool,
    config: TrainConfig,
    client: Client,
    *,
    partitions: int | None = None,
    batch: IntakeBatch | None = None,
) -> MatchModel:
    """Out-of-fold features per partition on the cluster, then ``lightgbm.dask`` fits."""
    inter = train.interactions
    outcomes = pipeline.outcome_table(train, pool, batch)
    folds = Folds.fit(inter, outcomes, config.folds, config.seed, pipeline.records)
    n_parts = partitions or max(2, len(client.scheduler_info()["workers"]) * 2)
    intake_ids = train.intakes["intake_id"].to_numpy()
    chunks = np.array_split(intake_ids, n_parts)
    [pipe_f, pool_f] = client.scatter([pipeline, pool], broadcast=True)
    parts = []
    for chunk in chunks:
        part = subset(train, chunk)
        mask = inter["intake_id"].isin(set(chunk)).to_numpy()
        parts.append(
            (
                delayed(_partition)(pipe_f, pool_f, part, folds=folds.rows(mask), config=config),
                int(has_outcome(part.interactions).sum()),
                len(part.interactions),
            )
        )
    n_feat = len(FEATURE_NAMES)

    def stack(key: str, rows: int, cols: int | None, dtype: Any, part: Any) -> da.Array:
        shape = (rows, cols) if cols is not None else (rows,)
        return da.from_delayed(part[key], shape=shape, dtype=dtype)

    x_out = da.concatenate([stack("x_outcome", n, n_feat, np.float32, p) for p, n, _ in parts])
    y_out = da.concatenate([stack("y_outcome", n, None, np.float64, p) for p, n, _ in parts])
    x_eng = da.concatenate([stack("x_engage", m, n_feat + 1, np.float32, p) for p, _, m in parts])
    y_eng = da.concatenate([stack("y_engage", m, None, np.float64, p) for p, _, m in parts])
    x_out, y_out, x_eng, y_eng = client.persist([x_out, y_out, x_eng, y_eng])
    names = list(FEATURE_NAMES)
    boosters = []
    for x, y, cols in ((x_out, y_out, names), (x_eng, y_eng, [*names, "position"])):
        estimator = DaskLGBMClassifier(client=client, **dask_params(config, cols))
        estimator.fit(x, y, feature_name=cols, categorical_feature=categorical_features(cols))
        boosters.append(estimator.booster_)
    outcome_booster, engagement_booster = boosters
    local_x = np.asarray(x_out.compute())
    local_y = np.asarray(y_out.compute(), dtype=np.float64)
    return with_prefilter(
        MatchModel(
            pipeline=pipeline,
            outcome=outcome_booster,
            engagement=engagement_booster,
            engagement_weight=config.engagement_weight,
            # The outcome rows' intakes are not collected here; each row is its own CV group.
            **outcome_linear(local_x, local_y, np.arange(len(local_x)), config),
        ),
        local_x,
        config.seed,
    )


__all__ = ["dask_params", "fit_boosters_dask"]
