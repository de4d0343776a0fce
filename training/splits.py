"""Splits by intake: time-based when ``submitted_at`` allows, and k folds for out-of-fold work."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset


def time_split(
    dataset: Dataset, holdout_fraction: float = 0.2, *, seed: int = 0
) -> tuple[set[str], set[str]]:
    """(train, validation) intake ids: the latest ``holdout_fraction`` of intakes by time.

    Falls back to a seeded random split when submission times are all equal.
    """
    intakes = dataset.intakes
    n_valid = max(1, round(len(intakes) * holdout_fraction))
    stamps = intakes["submitted_at"]
    if stamps.nunique() > 1:
        order = np.argsort(stamps.to_numpy(dtype="datetime64[ns]"), kind="stable")
    else:
        order = np.random.default_rng(seed).permutation(len(intakes))
    ids = intakes["intake_id"].to_numpy(dtype=object)[order]
    return set(map(str, ids[:-n_valid])), set(map(str, ids[-n_valid:]))


def subset(dataset: Dataset, intake_ids: Iterable[str]) -> Dataset:
    """The dataset restricted to some intakes (and their interactions); therapists unchanged."""
    keep = set(intake_ids)
    intakes = dataset.intakes[dataset.intakes["intake_id"].isin(keep)].reset_index(drop=True)
    inter = dataset.interactions
    inter = inter[inter["intake_id"].isin(keep)].reset_index(drop=True)
    return Dataset(dataset.therapists, intakes, inter)


def intake_folds(intake_ids: pd.Series, k: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """A fold number in [0, k) per row, constant within an intake (groups stay whole)."""
    codes, unique = pd.factorize(intake_ids)
    fold_of = np.random.default_rng(seed).permutation(len(unique)) % k
    return np.asarray(fold_of[codes], dtype=np.int64)


__all__ = ["intake_folds", "subset", "time_split"]
