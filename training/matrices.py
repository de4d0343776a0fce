"""Feature matrices for training: logged rows with out-of-fold track records.

A job encodes its therapist pool and every intake once (:class:`~features.encoding.IntakeBatch`)
and hands the same encodings to fitting, evaluation and serving; here each logged row's profile
columns are computed once, and only the track-record columns change from fold to fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from features.outcomes import has_outcome
from features.pipeline import PROFILE_COLUMNS, TRACK_RECORD_COLUMNS, FeaturePipeline
from features.track_record import OutcomeTable, RecordOptions, TrackRecord
from training.splits import intake_folds

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LoggedRows:
    """The interactions of a dataset as pairs into (batch, pool), with their feature matrix."""

    batch: IntakeBatch
    pairs: Pairs
    x: F32
    group: npt.NDArray[np.int64]
    """Query group (intake row in ``batch``) of each interaction row."""
    interactions: pd.DataFrame
    outcomes: OutcomeTable
    """The rows with a known outcome (``has_outcome`` order), for track records."""


def logged_pairs(dataset: Dataset, pool: TherapistPool) -> tuple[IntakeBatch, Pairs]:
    """Encode the intakes and map each interaction row to (intake row, pool row)."""
    batch = pool.encode_intakes(dataset.intakes)
    return batch, Pairs.of_interactions(dataset.interactions, batch, pool)


@dataclass(frozen=True)
class Folds:
    """Out-of-fold track records: a fold per logged row, one record per fold fitted on the
    other folds' outcomes."""

    fold: npt.NDArray[np.int64]
    records: tuple[TrackRecord, ...]

    @classmethod
    def fit(
        cls,
        interactions: pd.DataFrame,
        outcomes: OutcomeTable,
        folds: int,
        seed: int,
        options: RecordOptions | None = None,
        *,
        blank: float = 0.0,
    ) -> Folds:
        """Folds of whole intakes (:func:`~training.splits.intake_folds`) and their records
        (those ``options`` switch on).

        With ``blank > 0`` each fold's record also leaves out every outcome of a seeded random
        ``blank`` share of the therapists, so in that fold they look new: "no record" is then
        learnt from therapists drawn at random, not only from those the logging policy rarely
        showed (who are, by that selection, rarely booked)."""
        fold = intake_folds(interactions["intake_id"], folds, seed)
        outcome_fold = fold[has_outcome(interactions)]
        keeps = [outcome_fold != f for f in range(folds)]
        if blank > 0:
            ids, therapist = np.unique(outcomes.therapist_ids.astype(str), return_inverse=True)
            rng = np.random.default_rng([seed, 7])
            for f in range(folds):
                keeps[f] &= ~(rng.random(len(ids)) < blank)[therapist]
        records = [outcomes.take(keep).fit_track_record(options) for keep in keeps]
        return cls(fold, tuple(records))

    def rows(self, keep: npt.NDArray[np.bool_]) -> Folds:
        """The folds of some logged rows (the records stay)."""
        return Folds(self.fold[keep], self.records)


def logged_rows(
    pipeline: FeaturePipeline,
    dataset: Dataset,
    pool: TherapistPool,
    *,
    folds: int | Folds = 0,
    seed: int = 0,
    batch: IntakeBatch | None = None,
    blank: float = 0.0,
) -> LoggedRows:
    """Features of every logged row: the one out-of-fold routine of both training engines.

    With ``folds > 1`` each row's track record is fitted on the other folds' outcomes only (rows
    of one intake share a fold), so no outcome leaks into its own features; ``folds`` may also
    be precomputed :class:`Folds` (the Dask engine fits them once on the client and builds each
    partition's rows on a worker). With ``folds ≤ 1`` the pipeline's own (past) track record
    is used. ``blank`` is :meth:`Folds.fit`'s share of therapists made new in each fold.
    ``batch`` is an encoding of (at least) the dataset's intakes against ``pool``; without it
    the intakes are encoded here.
    """
    if batch is None:
        batch, pairs = logged_pairs(dataset, pool)
    else:
        pairs = Pairs.of_interactions(dataset.interactions, batch, pool)
    inter = dataset.interactions
    started = has_outcome(inter)
    x = np.empty((len(pairs), len(pipeline.feature_names)), dtype=np.float32, order="F")
    pipeline.transform(batch, pool, pairs, columns=PROFILE_COLUMNS, into=x)
    # outcome_rows(dataset), read off the encodings: the primary domain is the batch's.
    outcomes = pipeline.outcomes_of(
        inter[started], batch, pool, pairs.take(started), x[started][:, PROFILE_COLUMNS]
    )
    if isinstance(folds, int) and folds > 1:
        folds = Folds.fit(inter, outcomes, folds, seed, pipeline.records, blank=blank)
    if isinstance(folds, Folds):
        for f, record in enumerate(folds.records):
            rows = np.flatnonzero(folds.fold == f)
            x[np.ix_(rows, TRACK_RECORD_COLUMNS)] = pipeline.transform(
                batch, pool, pairs.take(rows), track_record=record, columns=TRACK_RECORD_COLUMNS
            )
    else:
        pipeline.transform(batch, pool, pairs, columns=TRACK_RECORD_COLUMNS, into=x)
    return LoggedRows(batch, pairs, x, pairs.intake_idx, inter, outcomes)


__all__ = ["Folds", "LoggedRows", "OutcomeTable", "logged_pairs", "logged_rows"]
