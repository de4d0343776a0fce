"""A target policy's top-k lists on the logged intakes, and where each logged row sits in them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from matcher.ranking import rank_within_groups
from training.offpolicy.feedback import LoggedFeedback

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]


@dataclass(frozen=True)
class TargetLists:
    """One row per (intake, therapist) a deterministic policy puts in its top k."""

    group: I64
    """Intake index into ``LoggedFeedback.intake_ids``."""
    therapist_ids: Obj
    position: I64
    """1-based position on the policy's list."""

    def __len__(self) -> int:
        return len(self.group)

    def slots(self, n: int) -> I64:
        """Number of positions each intake's list fills."""
        return np.bincount(self.group, minlength=n).astype(np.int64)

    @classmethod
    def top_k(cls, group: I64, therapist_ids: Obj, score: F64, k: int) -> TargetLists:
        """Each group's ``k`` best candidates by ``score`` (stable on ties)."""
        rank = rank_within_groups(group, score)
        keep = np.flatnonzero(rank < k)
        return cls(group[keep], np.asarray(therapist_ids, dtype=object)[keep], rank[keep] + 1)

    @classmethod
    def from_ranked(cls, ranked: pd.DataFrame, feedback: LoggedFeedback, k: int) -> TargetLists:
        """Lists from a ``matcher rank`` file (``intake_id, therapist_id, rank``): ranks > k,
        intakes without a logged list and the rows of intakes that got no list (crisis, nobody
        eligible: no therapist) are dropped; ranks are re-numbered 1.. within intakes."""
        group = pd.Index(feedback.intake_ids.astype(str)).get_indexer(
            ranked["intake_id"].astype(str)
        )
        listed = ranked["therapist_id"].notna().to_numpy() & ranked["rank"].notna().to_numpy()
        keep = (group >= 0) & listed
        rank = pd.to_numeric(ranked["rank"]).to_numpy(dtype=np.float64)
        g = group[keep].astype(np.int64)
        ids = ranked["therapist_id"].astype(str).to_numpy(dtype=object)[keep]
        return cls.top_k(g, ids, -rank[keep], k)


def at_logged_rows(feedback: LoggedFeedback, lists: TargetLists, values: npt.ArrayLike) -> F64:
    """``values`` (one per row of ``lists``) at each logged row's (intake, therapist); 0 where
    π does not list that therapist for that intake."""
    keys = pd.MultiIndex.from_arrays([lists.group, lists.therapist_ids.astype(str)])
    wanted = pd.MultiIndex.from_arrays([feedback.group, feedback.therapist_ids.astype(str)])
    at = keys.get_indexer(wanted)
    v = np.asarray(values, dtype=np.float64)
    return np.where(at >= 0, v[np.maximum(at, 0)] if len(v) else 0.0, 0.0)


def target_positions(feedback: LoggedFeedback, lists: TargetLists) -> I64:
    """π's position of each logged row's therapist for its intake (0 where π does not list it)."""
    return at_logged_rows(feedback, lists, lists.position).astype(np.int64)


__all__ = ["TargetLists", "at_logged_rows", "target_positions"]
