"""Feature matrices for training: logged rows with out-of-fold track records, and candidate sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from features.outcomes import has_outcome
from features.pipeline import FeaturePipeline
from features.track_record import TrackRecord
from training.splits import intake_folds


@dataclass(frozen=True)
class LoggedRows:
    """The interactions of a dataset as pairs into (batch, pool), with their feature matrix."""

    batch: IntakeBatch
    pairs: Pairs
    x: npt.NDArray[np.float32]
    group: npt.NDArray[np.int64]
    """Query group (intake row in ``batch``) of each interaction row."""
    interactions: pd.DataFrame


def logged_pairs(dataset: Dataset, pool: TherapistPool) -> tuple[IntakeBatch, Pairs]:
    """Encode the intakes and map each interaction row to (intake row, pool row)."""
    batch = pool.encode_intakes(dataset.intakes)
    index = pd.Index(dataset.intakes["intake_id"].astype(str))
    inter = dataset.interactions
    i = index.get_indexer(inter["intake_id"].astype(str))
    j = pool.positions(inter["therapist_id"].astype(str).tolist())
    return batch, Pairs(i.astype(np.int64), j)


def logged_rows(
    pipeline: FeaturePipeline,
    dataset: Dataset,
    pool: TherapistPool,
    *,
    folds: int = 0,
    seed: int = 0,
) -> LoggedRows:
    """Features of every logged row.

    With ``folds > 1`` each row's track record is fitted on the other folds' outcomes only (rows
    of one intake share a fold), so no outcome leaks into its own features; with ``folds ≤ 1``
    the pipeline's own (past) track record is used.
    """
    batch, pairs = logged_pairs(dataset, pool)
    text = pipeline.text_.transform(batch.free_text)
    x = np.empty((len(pairs), len(pipeline.feature_names)), dtype=np.float32)
    if folds <= 1:
        x[:] = pipeline.transform(batch, pool, pairs, intake_text=text)
    else:
        inter = dataset.interactions
        fold = intake_folds(inter["intake_id"], folds, seed)
        ids, domains, good, expected = pipeline.outcome_table(dataset, pool)
        outcome_fold = fold[has_outcome(inter)]
        for f in range(folds):
            rows = fold == f
            other = outcome_fold != f
            tr = TrackRecord().fit(ids[other], domains[other], good[other], expected[other])
            x[rows] = pipeline.transform(
                batch, pool, pairs.take(rows), track_record=tr, intake_text=text
            )
    return LoggedRows(batch, pairs, x, pairs.intake_idx, dataset.interactions)


__all__ = ["LoggedRows", "logged_pairs", "logged_rows"]
