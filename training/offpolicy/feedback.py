"""Logged feedback as flat arrays: one row per shown therapist, grouped by intake."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from training.labels import LabelConfig, graded_label

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]
GOOD_LABEL = 4
"""Graded label of a good outcome: retained (≥ 4 sessions, not dropped out) and improved."""


@dataclass(frozen=True)
class LoggedFeedback:
    """What the logging policy showed, where, with what propensity, and what came of it."""

    intake_ids: Obj
    """One per intake that has a logged list; ``group`` indexes into it."""
    group: I64
    therapist_ids: Obj
    position: I64
    reward: F64
    """1 where the row was chosen and had a good outcome (label config's grade 4)."""
    chosen: B
    propensity: F64
    """μ(t, k | x) of each row; NaN where the log has none."""
    shown_propensity: F64
    """P_μ(t shown | x) of each row; NaN where the log has none."""
    policy: Obj

    @property
    def n(self) -> int:
        """Number of intakes with a logged list."""
        return len(self.intake_ids)

    def with_propensities(self, propensity: F64, shown: F64) -> LoggedFeedback:
        """A copy with the propensity columns replaced."""
        return LoggedFeedback(
            self.intake_ids,
            self.group,
            self.therapist_ids,
            self.position,
            self.reward,
            self.chosen,
            propensity,
            shown,
            self.policy,
        )

    def per_intake(self, values: F64) -> F64:
        """Σ of ``values`` over each intake's logged rows."""
        return np.bincount(self.group, weights=values, minlength=self.n).astype(np.float64)

    @classmethod
    def from_dataset(cls, dataset: Dataset, labels: LabelConfig | None = None) -> LoggedFeedback:
        """The interactions table as feedback (rows keep the table's order)."""
        inter = dataset.interactions
        codes, uniques = pd.factorize(inter["intake_id"].astype(str))

        def column(name: str) -> F64:
            if name not in inter.columns:
                return np.full(len(inter), np.nan)
            return pd.to_numeric(inter[name]).astype("Float64").to_numpy(float, na_value=np.nan)

        policy = (
            inter["policy"].astype("string").fillna("").to_numpy(dtype=object)
            if "policy" in inter.columns
            else np.full(len(inter), "", dtype=object)
        )
        return cls(
            intake_ids=np.asarray(uniques, dtype=object),
            group=codes.astype(np.int64),
            therapist_ids=inter["therapist_id"].astype(str).to_numpy(dtype=object),
            position=pd.to_numeric(inter["position"]).to_numpy(dtype=np.int64),
            reward=(graded_label(inter, labels) >= GOOD_LABEL).astype(np.float64),
            chosen=inter["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool),
            propensity=column("propensity"),
            shown_propensity=column("shown_propensity"),
            policy=policy,
        )


__all__ = ["GOOD_LABEL", "LoggedFeedback"]
