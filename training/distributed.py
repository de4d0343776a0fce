"""Scale-out training on an existing Dask cluster (``matcher train --engine dask``).

Logged rows are split into partitions of whole intakes (query groups never straddle two); each
partition's features are built on a worker with the same :class:`FeaturePipeline` and the
out-of-fold track records fitted once on the client; the boosters are fitted with
``lightgbm.dask``. Limits: ``lightgbm.dask`` has no early stopping, so the number of rounds is
fixed (``TrainConfig.dask_rounds``); baselines are not fitted (they need every row in memory).
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
from features.encoding import TherapistPool
from features.outcomes import good_outcome, has_outcome
from features.pipeline import FEATURE_NAMES, MONOTONE, FeaturePipeline
from features.track_record import TrackRecord
from matcher.model import MatchModel, Prefilter
from training.config import TrainConfig
from training.labels import graded_label
from training.matrices import logged_rows
from training.splits import intake_folds, subset

F32 = npt.NDArray[np.float32]


def _partition(
    pipeline: FeaturePipeline,
    pool: TherapistPool,
    part: Dataset,
    *,
    records: list[TrackRecord],
    fold: npt.NDArray[np.int64],
    config: TrainConfig,
) -> dict[str, Any]:
    """Features and labels of one partition (runs on a worker)."""
    rows = logged_rows(pipeline, part, pool)
    batch, pairs = rows.batch, rows.pairs
    x = rows.x
    for f, tr in enumerate(records):
        mask = fold == f
        if mask.any():
            x[mask] = pipeline.transform(batch, pool, pairs.take(mask), track_record=tr)
    inter = part.interactions
    started = has_outcome(inter)
    position = inter["position"].to_numpy(dtype=np.float32)[:, None]
    return {
        "x_outcome": x[started],
        "y_outcome": good_outcome(inter)[started].astype(np.float64),
        "x_engage": np.hstack([x, position]),
        "y_engage": (graded_label(inter, config.labels) >= 2).astype(np.float64),
    }


def _params(config: TrainConfig, names: list[str]) -> dict[str, Any]:
    params = {k: v for k, v in config.booster.items() if k not in ("verbose", "deterministic")}
    if config.monotone:
        direction = MONOTONE | {"position": -1}
        params["monotone_constraints"] = [direction.get(n, 0) for n in names]
    return params | {"n_estimators": config.dask_rounds, "random_state": config.seed, "verbose": -1}


def fit_boosters_dask(
    pipeline: FeaturePipeline,
    train: Dataset,
    pool: TherapistPool,
    config: TrainConfig,
    client: Client,
    *,
    partitions: int | None = None,
) -> MatchModel:
    """Out-of-fold features per partition on the cluster, then ``lightgbm.dask`` fits."""
    inter = train.interactions
    fold = intake_folds(inter["intake_id"], config.folds, config.seed)
    ids, domains, good, expected = pipeline.outcome_table(train, pool)
    outcome_fold = fold[has_outcome(inter)]
    records = []
    for f in range(config.folds):
        other = outcome_fold != f
        records.append(TrackRecord().fit(ids[other], domains[other], good[other], expected[other]))
    n_parts = partitions or max(2, len(client.scheduler_info()["workers"]) * 2)
    intake_ids = train.intakes["intake_id"].to_numpy()
    chunks = np.array_split(intake_ids, n_parts)
    [pipe_f, pool_f, rec_f] = client.scatter([pipeline, pool, records], broadcast=True)
    parts = []
    for chunk in chunks:
        part = subset(train, chunk)
        part_fold = fold[inter["intake_id"].isin(set(chunk)).to_numpy()]
        parts.append(
            (
                delayed(_partition)(
                    pipe_f, pool_f, part, records=rec_f, fold=part_fold, config=config
                ),
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
    outcome = DaskLGBMClassifier(client=client, **_params(config, names)).fit(x_out, y_out)
    engagement = DaskLGBMClassifier(client=client, **_params(config, [*names, "position"])).fit(
        x_eng, y_eng
    )
    outcome_booster = outcome.booster_
    local_x = np.asarray(x_out.compute())
    prefilter = Prefilter.fit(
        local_x, np.asarray(outcome_booster.predict(local_x, raw_score=True), dtype=np.float64)
    )
    return MatchModel(
        pipeline=pipeline,
        outcome=outcome_booster,
        engagement=engagement.booster_,
        engagement_weight=config.engagement_weight,
        prefilter=prefilter,
    )


__all__ = ["fit_boosters_dask"]
